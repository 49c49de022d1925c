"""A pair's analysis settings and thresholds, resolved: configured values, else the pair's
calibration, else conservative defaults (application layer; no model, no encoding: reports and
digests read them without importing the analysis rules)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from monitor.config import MonitorConfig, PairConfig
from monitor.models import Calibration, Thresholds

# Used until a pair has enough history to calibrate.
FALLBACK = {"overlap": 0.6, "lexical": 0.6, "offline": -1.0, "offlimits": 0.6,
            "offline_own": -1.0}
STALE = "default (the off-limits topics changed; recalibrated at the next `monitor analyse`)"


@dataclass(frozen=True)
class Settings:
    """A pair's analysis settings, resolved (pair value, else [analysis] value)."""

    lag_days: float
    recycle_days: float
    reference_days: float
    fdr: float
    min_substance: int


def settings_for(pair: PairConfig, cfg: MonitorConfig) -> Settings:
    a, eff = cfg.analysis, cfg.effective(pair)
    return Settings(lag_days=eff.lag_days, recycle_days=eff.recycle_days,
                    reference_days=float(a.reference_days), fdr=a.overlap_fdr,
                    min_substance=a.min_substance)



def topics_key(pair: PairConfig, model: str) -> str:
    payload = json.dumps([model, pair.offlimits_topics()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def thresholds_for(pair: PairConfig, cfg: MonitorConfig, calibration: Calibration | None, *,
                   model: str | None = None) -> Thresholds:
    """Configured values win; then the pair's calibration; then conservative defaults. With
    `model`, a calibration computed for other off-limits topics is stale for the off-limits
    threshold: it is never called calibrated (the next `monitor analyse` recalibrates)."""
    s = settings_for(pair, cfg)
    cal = calibration if calibration is not None and calibration.sufficient else None
    stale = (cal is not None and model is not None
             and cal.topics_key != topics_key(pair, model))
    calibrated = {"overlap": cal.null.cos_floor if cal and cal.null else None,
                  "lexical": cal.lexical if cal else None,
                  "offline": cal.offline if cal else None,
                  "offlimits": cal.offlimits if cal else None,
                  "offline_own": cal.offline_own if cal else None}
    values: dict[str, float] = {}
    details: dict[str, str] = {}
    configured_values = cfg.effective(pair).thresholds
    for name in ("overlap", "lexical", "offline", "offlimits", "offline_own"):
        configured = configured_values.get(name)
        value = calibrated[name]
        if configured is not None:
            values[name], details[name] = float(configured), "configured"
        elif stale and name == "offlimits":
            values[name] = FALLBACK[name]
            details[name] = STALE
        elif value is not None:
            values[name], details[name] = float(value), "calibrated"
        else:
            values[name] = FALLBACK[name]
            details[name] = "default (not enough history to calibrate yet)"
    if cal is not None:
        source = cal.method
    elif calibration is not None:
        source = f"defaults: {calibration.method}"
    else:
        source = "defaults: not enough history to calibrate yet"
    if all(v == "configured" for v in details.values()):
        source = "all thresholds configured"
    return Thresholds(
        overlap=values["overlap"], lexical=values["lexical"], offline=values["offline"],
        offlimits=values["offlimits"], offline_own=values["offline_own"], lag_days=s.lag_days,
        recycle_days=s.recycle_days, fdr=s.fdr, min_substance=s.min_substance, source=source,
        details=details, guardrail_note=cal.guardrail_note if cal and not stale else None)
