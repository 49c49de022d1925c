"""One run of the monitor, wired: import -> store -> embed -> analyse -> report.

The pipeline owns no policy of its own: it passes the store, the encoder and the configuration
to the pure analysis and hands results to the renderers. The CLI and the scheduler call it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from monitor.analysis.calibrate import Calibration, calibrate
from monitor.analysis.classify import Guardrails, classify
from monitor.analysis.drift import DriftResult, voice_drift
from monitor.analysis.rates import by_period, totals
from monitor.analysis.similarity import topic_centroids
from monitor.analysis.text import embedding_text
from monitor.config import MonitorConfig, PairConfig
from monitor.embed.encoder import Encoder, model_id_for
from monitor.errors import UsageError
from monitor.ingest.archive import read_archive
from monitor.ingest.jsonl import read_jsonl
from monitor.models import Finding, Post, PostClass, Thresholds
from monitor.report.model import PairReport, ReportItem
from monitor.store import ImportResult, Store, StoredPost

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]

# Defaults used until a pair has enough history to calibrate (two weeks of both voices).
FALLBACK = {"overlap": 0.75, "lexical": 0.6, "offline": -1.0, "offlimits": 0.5}


# -- import ------------------------------------------------------------------------------------

def import_jsonl(store: Store, path: str | Path) -> ImportResult:
    """Import a JSONL file in one transaction (all posts, or none if any line is bad)."""
    posts = read_jsonl(path)
    return store.import_posts(posts, source="jsonl")


def import_archive(store: Store, path: str | Path, account: str | None) -> ImportResult:
    """Import an X archive export (zip, folder or tweets.js) in one transaction."""
    contents = read_archive(path, account)
    return store.import_posts(contents.posts, source="archive")


# -- embed -------------------------------------------------------------------------------------

def embed_pending(store: Store, encoder: Encoder, accounts: Sequence[str] | None = None,
                  progress: Progress | None = None, batch: int = 512) -> int:
    """Compute vectors for posts that have none for this model (or whose text changed).

    Vectors are saved batch by batch, so an interrupted run keeps what it computed.
    """
    pending = store.posts_missing_vectors(encoder.model_id, accounts)
    done = 0
    for start in range(0, len(pending), batch):
        chunk = pending[start:start + batch]
        vecs = encoder.encode([embedding_text(sp.post.text) for sp in chunk])
        store.save_vectors(encoder.model_id, [(sp.pk, sp.text_hash, vecs[i])
                                              for i, sp in enumerate(chunk)])
        done += len(chunk)
        if progress:
            progress(done, len(pending))
    return done


# -- analyse -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PairAnalysis:
    pair: str
    model: str
    analysed: int
    total: int
    thresholds: Thresholds


def _seconds(posts: Sequence[StoredPost]) -> np.ndarray:
    return np.array([sp.post.created_at.timestamp() for sp in posts], dtype=np.float64)


def guardrails(pair: PairConfig, encoder: Encoder) -> Guardrails:
    topics = pair.offlimits_topics()
    phrases = [(topic, phrase) for topic, examples in topics.items() for phrase in examples]
    if not phrases:
        return Guardrails(np.zeros((0, 1), dtype=np.float32), ())
    vecs = encoder.encode([p for _, p in phrases])
    return Guardrails(vecs, tuple(t for t, _ in phrases))


def thresholds_for(pair: PairConfig, cfg: MonitorConfig, calibration: dict | None) -> Thresholds:
    """Configured values win; otherwise the pair's calibration; otherwise conservative defaults."""
    a = cfg.analysis
    cal = calibration or {}
    details: dict[str, str] = {}
    values: dict[str, float] = {}
    for name in ("overlap", "lexical", "offline", "offlimits"):
        configured = getattr(pair, f"{name}_threshold")
        if configured is None:
            configured = getattr(a, f"{name}_threshold")
        if configured is not None:
            values[name] = float(configured)
            details[name] = "configured"
        elif name in cal:
            values[name] = float(cal[name])
            details[name] = "calibrated"
        else:
            values[name] = FALLBACK[name]
            details[name] = "default (not enough history to calibrate yet)"
    source = cal.get("method", "defaults: not enough history to calibrate yet")
    if all(v == "configured" for v in details.values()):
        source = "all thresholds configured"
    return Thresholds(lag_days=pair.lag_days or a.lag_days, source=source, details=details,
                      **values)


def _thresholds_key(t: Thresholds, pair: PairConfig) -> str:
    """Identifies everything a stored finding depends on besides the posts themselves."""
    payload = json.dumps([round(t.overlap, 4), round(t.lexical, 4), round(t.offline, 4),
                          round(t.offlimits, 4), t.lag_days, pair.offlimits_topics(),
                          sorted(a.casefold() for a in pair.corporate)], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def analyse_pair(store: Store, cfg: MonitorConfig, pair: PairConfig, encoder: Encoder, *,
                 recalibrate: bool = False) -> PairAnalysis:
    """Classify the pair's executive posts that are new, changed, or affected by new
    corporate posts; recalibrate thresholds when the history has grown by a tenth."""
    model = encoder.model_id
    embed_pending(store, encoder, pair.accounts)
    exec_posts = store.posts(pair.executive)
    corp_posts = store.posts(pair.corporate)
    exec_vecs = store.load_vectors(model, [sp.pk for sp in exec_posts])
    corp_vecs = store.load_vectors(model, [sp.pk for sp in corp_posts])
    rails = guardrails(pair, encoder)
    exec_t, corp_t = _seconds(exec_posts), _seconds(corp_posts)

    calibration = store.calibration(pair.name, model)
    size = len(exec_posts) + len(corp_posts)
    if recalibrate or calibration is None or size > 1.1 * calibration.get("posts", 0):
        cal = calibrate(exec_vecs, exec_t, [sp.post.text for sp in exec_posts],
                        corp_vecs, corp_t, [sp.post.text for sp in corp_posts], rails.vectors,
                        lag_days=pair.lag_days or cfg.analysis.lag_days)
        if cal is not None:
            calibration = _calibration_dict(cal, size)
            store.save_calibration(pair.name, model, calibration)
    thresholds = thresholds_for(pair, cfg, calibration)
    key = _thresholds_key(thresholds, pair)

    # The corporate line: topic centroids over the reference period ending at the newest post.
    centroids = None
    if corp_posts:
        end = corp_t[-1]
        ref = corp_t >= end - cfg.analysis.reference_days * 86400
        centroids = topic_centroids(corp_vecs[ref])

    state_key = f"analysis:{pair.name}:{model}"
    state = store.get_value(state_key) or {}
    last_max_pk = int(state.get("max_pk", 0))
    stored = store.finding_keys(pair.name, model)
    new_corp_times = [sp.post.created_at.timestamp() for sp in corp_posts if sp.pk > last_max_pk]
    affected_from = (min(new_corp_times) - thresholds.lag_days * 86400
                     if new_corp_times else float("inf"))
    todo = [i for i, sp in enumerate(exec_posts)
            if sp.pk not in stored or stored[sp.pk] != (sp.text_hash, key)
            or exec_t[i] >= affected_from]
    if todo:
        sel = np.array(todo)
        findings = classify([exec_posts[i].post for i in todo], exec_vecs[sel],
                            [sp.post for sp in corp_posts], corp_vecs, thresholds,
                            corporate_accounts=pair.corporate, centroids=centroids,
                            guardrails=rails)
        store.save_findings(pair.name, model, [
            (exec_posts[i].pk, exec_posts[i].text_hash, key, f)
            for i, f in zip(todo, findings, strict=True)])
    store.delete_findings(pair.name, model, [sp.pk for sp in exec_posts])
    max_pk = max([sp.pk for sp in [*exec_posts, *corp_posts]], default=0)
    store.set_value(state_key, {"max_pk": max_pk})
    return PairAnalysis(pair.name, model, len(todo), len(exec_posts), thresholds)


def _calibration_dict(cal: Calibration, size: int) -> dict:
    return {"overlap": cal.overlap, "lexical": cal.lexical, "offline": cal.offline,
            "offlimits": cal.offlimits, "null_size": cal.null_size,
            "null_median": cal.null_median, "method": cal.method,
            "posts": size}


def analyse_all(store: Store, cfg: MonitorConfig, encoder: Encoder,
                pairs: Sequence[PairConfig] | None = None) -> list[PairAnalysis]:
    return [analyse_pair(store, cfg, p, encoder) for p in (pairs or cfg.pairs)]


# -- report ------------------------------------------------------------------------------------

def build_report(store: Store, cfg: MonitorConfig, pair: PairConfig, *,
                 since: datetime | None = None, until: datetime | None = None,
                 now: datetime | None = None) -> PairReport:
    """Gather a pair's stored findings into a report. Needs no model: vectors are cached."""
    model = model_id_for(cfg.model.name)
    now = now or datetime.now(UTC)
    first, last = store.time_range(pair.accounts)
    start = since or first or now
    end = until or max(now, (last or now) + timedelta(seconds=1))
    stored = store.findings(pair.name, model, since=start, until=end)
    notes: list[str] = []
    if not stored:
        if store.count_posts() == 0:
            notes.append("The store has no posts yet: run `monitor ingest` first.")
        else:
            notes.append("No analysed executive posts in this period: run `monitor analyse`, "
                         "or widen --since.")
    findings = [s.finding for s in stored]
    items = [ReportItem(s.finding, s.post, s.nearest) for s in stored]
    calibration = store.calibration(pair.name, model)
    thresholds = thresholds_for(pair, cfg, calibration)
    drift = pair_drift(store, cfg, pair, model, end=min(end, (last or end) + timedelta(
        seconds=1)))
    return PairReport(
        pair=pair.name, executive=tuple(pair.executive), corporate=tuple(pair.corporate),
        model=model, start=start, end=end, generated_at=now, thresholds=thresholds,
        totals=totals(findings), weekly=by_period(findings, "week"), items=items,
        drift=drift, alert_threshold=cfg.alerts.threshold, notes=notes)


def pair_drift(store: Store, cfg: MonitorConfig, pair: PairConfig, model: str, *,
               end: datetime) -> DriftResult | None:
    """Drift of the last window against the executive's own baseline before it."""
    a = cfg.analysis
    window = timedelta(days=a.drift_window_days)
    baseline_start = end - window - timedelta(days=a.drift_baseline_days)
    exec_posts = store.posts(pair.executive, since=baseline_start, until=end)
    corp_posts = store.posts(pair.corporate, since=baseline_start, until=end)
    if not exec_posts:
        return None
    try:
        exec_vecs = store.load_vectors(model, [sp.pk for sp in exec_posts])
        corp_vecs = store.load_vectors(model, [sp.pk for sp in corp_posts])
    except Exception:  # vectors not computed yet: drift is unknown, not an error
        return None
    split = (end - window).timestamp()
    times = _seconds(exec_posts)
    return voice_drift(exec_vecs[times < split], exec_vecs[times >= split], corp_vecs,
                       alpha=a.drift_alpha)


# -- check -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckResult:
    finding: Finding
    neighbours: list[tuple[Post, float]]
    thresholds: Thresholds


def check_draft(store: Store, cfg: MonitorConfig, pair: PairConfig, encoder: Encoder,
                text: str, *, now: datetime | None = None, limit: int = 5) -> CheckResult:
    """Classify a draft as if posted now by the pair's first executive account."""
    if not text.strip():
        raise UsageError("the draft is empty: pass the text to check, e.g. "
                         "monitor check \"Our new lamp is out\" --pair NAME")
    now = now or datetime.now(UTC)
    model = encoder.model_id
    lag = timedelta(days=pair.lag_days or cfg.analysis.lag_days)
    corp = store.posts(pair.corporate, since=now - lag - timedelta(
        days=cfg.analysis.reference_days), until=now + lag)
    embed_pending(store, encoder, pair.corporate)
    corp_vecs = store.load_vectors(model, [sp.pk for sp in corp])
    draft = Post(post_id="0", account=pair.executive[0], created_at=now, text=text)
    vec = encoder.encode([embedding_text(text)])
    thresholds = thresholds_for(pair, cfg, store.calibration(pair.name, model))
    centroids = topic_centroids(corp_vecs) if len(corp) else None
    finding = classify([draft], vec, [sp.post for sp in corp], corp_vecs, thresholds,
                       corporate_accounts=pair.corporate, centroids=centroids,
                       guardrails=guardrails(pair, encoder))[0]
    in_window = [i for i, sp in enumerate(corp) if abs(sp.post.created_at - now) <= lag]
    sims = corp_vecs[in_window] @ vec[0] if in_window else np.zeros(0)
    order = np.argsort(-sims)[:limit]
    neighbours = [(corp[in_window[j]].post, float(sims[j])) for j in order]
    return CheckResult(finding, neighbours, thresholds)


def classes_summary(findings: Sequence[Finding]) -> dict[str, int]:
    counts = dict.fromkeys((c.value for c in PostClass), 0)
    for f in findings:
        counts[f.post_class.value] += 1
    return counts
