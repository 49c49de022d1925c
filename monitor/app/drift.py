"""A pair's voice drift, from its stored vectors (application layer: it loads the windows the
pure test in `monitor.analysis.drift` compares; no model needed)."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from monitor.analysis.drift import DriftResult, drift_z, voice_drift
from monitor.analysis.substance import substance
from monitor.config import MonitorConfig, PairConfig
from monitor.errors import MissingVectors, MonitorError
from monitor.store import Store

log = logging.getLogger(__name__)
DRIFT_HISTORY_WEEKS = 12
DRIFT_VERSION = 1  # part of every remembered result's key: a new test recomputes them
REMEMBERED = 4  # results kept per pair and model (a report's end, a digest's, ...)


def pair_drift(store: Store, cfg: MonitorConfig, pair: PairConfig, model: str, *,
               end: datetime) -> DriftResult | None:
    """Drift of the last window against the executive's own baseline before it, judged against
    the same statistic on the previous weeks (each against its own baseline)."""
    a = cfg.analysis
    window = timedelta(days=a.drift_window_days)
    baseline = timedelta(days=a.drift_baseline_days)
    week = timedelta(days=7)
    start = end - DRIFT_HISTORY_WEEKS * week - window - baseline
    moments = store.post_moments(pair.executive, since=start, until=end,
                                 findings_of=(pair.name, model))
    exec_posts = [(pk, at) for pk, at, text, stored in moments
                  if (substance(text) if stored is None else stored) >= a.min_substance]
    if not exec_posts:
        return None
    recent_start = end - window
    corp = store.post_moments(pair.corporate, since=recent_start - baseline, until=end)
    corp_pks = [pk for pk, _, _, _ in corp]
    # The test reads a few thousand vectors and runs thirteen permutation tests (a third of a
    # year's report); its result depends only on these posts, their texts and the settings,
    # so it is remembered under a digest of them, and any change of input recomputes it.
    key = _inputs_key(model, end, a, exec_posts, moments, corp)
    slot = f"drift:{pair.name}:{model}"
    known = _remembered(store, slot, key)
    if known is not None:
        return known
    try:
        exec_vecs = store.load_vectors(model, [pk for pk, _ in exec_posts])
        corp_vecs = store.load_vectors(model, corp_pks)
    except MissingVectors:  # vectors not computed yet: drift is unknown, not an error
        return None
    times = np.asarray([at.timestamp() for _, at in exec_posts], dtype=np.float64)

    def split(until: datetime) -> tuple[np.ndarray, np.ndarray]:
        cut, lo = (until - window).timestamp(), (until - window - baseline).timestamp()
        return (exec_vecs[(times >= lo) & (times < cut)],
                exec_vecs[(times >= cut) & (times < until.timestamp())])

    history = []
    for k in range(1, DRIFT_HISTORY_WEEKS + 1):
        past = drift_z(*split(end - k * week), seed=k)
        if past is not None:
            history.append(past[2])
    before, recent = split(end)
    result = voice_drift(before, recent, corp_vecs, history=history, alpha=a.drift_alpha)
    _remember(store, slot, key, result)
    return result


def refresh_drift(store: Store, cfg: MonitorConfig, pair: PairConfig,
                  model: str) -> DriftResult | None:
    """The drift up to the pair's newest post (what a report until now shows), computed and
    remembered after an analysis: the service and `monitor analyse` pay for it, in the
    background or while the person waits for the analysis anyway, not the next report."""
    _, last = store.time_range(pair.accounts)
    if last is None:
        return None
    return pair_drift(store, cfg, pair, model, end=last + timedelta(seconds=1))


def _inputs_key(model: str, end: datetime, settings: Any, kept: list[tuple[int, datetime]],
                executive: list[tuple[int, datetime, str, int | None]],
                corporate: list[tuple[int, datetime, str, int | None]]) -> str:
    digest = hashlib.sha256(json.dumps(
        [DRIFT_VERSION, DRIFT_HISTORY_WEEKS, model, end.isoformat(),
         settings.drift_window_days, settings.drift_baseline_days, settings.drift_alpha,
         settings.min_substance, [pk for pk, _ in kept]]).encode())
    for pk, at, text, _ in (*executive, *corporate):  # texts: a vector follows its text
        digest.update(f"\x00{pk}\x00{at.timestamp()}\x00".encode())
        digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def _remembered(store: Store, slot: str, key: str) -> DriftResult | None:
    try:
        value = (store.get_value(slot) or {}).get(key)
        return DriftResult(**value) if isinstance(value, dict) else None
    except (MonitorError, TypeError):  # unreadable, or written by another version
        return None


def _remember(store: Store, slot: str, key: str, result: DriftResult) -> None:
    values = asdict(result)
    if any(isinstance(v, float) and not math.isfinite(v) for v in values.values()):
        return  # JSON (and PostgreSQL's JSONB) has no NaN: such a result is just recomputed
    try:
        kept = {k: v for k, v in (store.get_value(slot) or {}).items()
                if isinstance(v, dict) and set(v) == {f.name for f in fields(DriftResult)}}
        kept.pop(key, None)
        kept[key] = values
        if not store.offer_value(slot, dict(list(kept.items())[-REMEMBERED:])):
            log.debug("drift of %s not remembered: the store is busy or read-only", slot)
    except MonitorError as exc:  # only a cache: recomputed next time
        log.debug("drift of %s not remembered: %s", slot, exc)
