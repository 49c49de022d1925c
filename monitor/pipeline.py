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
from monitor.errors import StoreError, UsageError
from monitor.ingest.archive import read_archive
from monitor.ingest.jsonl import read_jsonl
from monitor.models import Finding, Post, Thresholds
from monitor.report.model import PairReport, ReportItem
from monitor.store import ImportResult, Store, StoredPost

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]

# Defaults used until a pair has enough history to calibrate (two weeks of both voices).
FALLBACK = {"overlap": 0.75, "lexical": 0.6, "offline": -1.0, "offlimits": 0.5}


# -- import ------------------------------------------------------------------------------------

def import_jsonl(store: Store, path: str | Path, *, now: datetime | None = None) -> ImportResult:
    """Import a JSONL file in one transaction (all posts, or none if any line is bad); post
    dates must lie between X's launch and a day after `now` (default: the clock)."""
    posts = read_jsonl(path, now=now)
    return store.import_posts(posts, source="jsonl")


def import_archive(store: Store, path: str | Path, account: str | None, *,
                   now: datetime | None = None) -> ImportResult:
    """Import an X archive export (zip, folder or tweets.js) in one transaction."""
    contents = read_archive(path, account, now=now)
    return store.import_posts(contents.posts, source="archive")


# -- embed -------------------------------------------------------------------------------------

def embed_pending(store: Store, encoder: Encoder, accounts: Sequence[str] | None = None,
                  progress: Progress | None = None, batch: int = 512) -> int:
    """Compute vectors for posts that have none for this model (or whose text changed);
    return how many posts got a vector.

    Each distinct text is encoded once: a retweet reads exactly like the post it copies, so it
    shares its vector. Vectors are saved batch by batch, so an interrupted run keeps what it
    computed.
    """
    pending = store.posts_missing_vectors(encoder.model_id, accounts)
    groups: dict[str, list[StoredPost]] = {}
    for sp in pending:
        groups.setdefault(embedding_text(sp.post.text), []).append(sp)
    # Batches of similar length waste no padding: as fast as one encode call over everything.
    texts = sorted(groups, key=len)
    done = 0
    for start in range(0, len(texts), batch):
        chunk = texts[start:start + batch]
        vecs = encoder.encode(chunk)
        items = [(sp.pk, sp.text_hash, vecs[i]) for i, text in enumerate(chunk)
                 for sp in groups[text]]
        store.save_vectors(encoder.model_id, items)
        done += len(items)
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


_RAILS_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], Guardrails] = {}


def guardrails(pair: PairConfig, encoder: Encoder, *,
               with_texts: Sequence[str] = ()) -> tuple[Guardrails, np.ndarray | None]:
    """The pair's off-limits examples as vectors, encoded once per model and phrase set; texts
    given in `with_texts` are encoded in the same call (one encode for a draft check)."""
    topics = pair.offlimits_topics()
    phrases = tuple((topic, phrase) for topic, examples in topics.items() for phrase in examples)
    key = (encoder.model_id, phrases)
    extra: np.ndarray | None = None
    if key not in _RAILS_CACHE and phrases:
        vecs = encoder.encode([*with_texts, *(p for _, p in phrases)])
        extra = vecs[:len(with_texts)] if with_texts else None
        _RAILS_CACHE[key] = Guardrails(vecs[len(with_texts):], tuple(t for t, _ in phrases))
    elif with_texts:
        extra = encoder.encode(list(with_texts))
    rails = _RAILS_CACHE.get(key) or Guardrails(np.zeros((0, 1), dtype=np.float32), ())
    return rails, extra


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
    """Classify the pair's executive posts that are new, changed, or within the lag window of
    new corporate posts, loading only the posts and vectors of the windows involved (work is
    proportional to what is new, not to the history); recalibrate thresholds when the history
    has grown by a tenth."""
    model = encoder.model_id
    lag_days = pair.lag_days or cfg.analysis.lag_days
    lag = timedelta(days=lag_days)
    embed_pending(store, encoder, pair.accounts)
    rails, _ = guardrails(pair, encoder)

    calibration = store.calibration(pair.name, model)
    size = store.count_posts_of(pair.accounts)
    if recalibrate or calibration is None or size > 1.1 * calibration.get("posts", 0):
        calibration = _calibrate_pair(store, pair, model, rails, lag_days, size) or calibration
    thresholds = thresholds_for(pair, cfg, calibration)
    key = _thresholds_key(thresholds, pair)

    state_key = f"analysis:{pair.name}:{model}"
    last_max_pk = int((store.get_value(state_key) or {}).get("max_pk", 0))
    max_pk = store.max_post_pk()
    todo = {sp.pk: sp for sp in store.posts_needing_findings(pair.name, model, pair.executive,
                                                              key)}
    # A corporate post that arrived late can make an older executive post an overlap.
    new_corp = store.posts(pair.corporate, after_pk=last_max_pk) if last_max_pk else []
    if new_corp:
        lo = min(sp.post.created_at for sp in new_corp) - lag
        hi = max(sp.post.created_at for sp in new_corp) + lag
        for sp in store.posts(pair.executive, since=lo, until=hi + timedelta(seconds=1)):
            todo.setdefault(sp.pk, sp)
    exec_posts = sorted(todo.values(), key=lambda sp: (sp.post.created_at, sp.pk))
    if exec_posts:
        first = exec_posts[0].post.created_at
        last = exec_posts[-1].post.created_at
        reference = timedelta(days=cfg.analysis.reference_days)
        corp_posts = store.posts(pair.corporate, since=min(first - lag, last - reference),
                                 until=last + lag + timedelta(seconds=1))
        exec_vecs = store.load_vectors(model, [sp.pk for sp in exec_posts])
        corp_vecs = store.load_vectors(model, [sp.pk for sp in corp_posts])
        # The corporate line: topic centroids over the reference period ending at the newest
        # executive post analysed.
        corp_t = _seconds(corp_posts)
        ref = corp_t >= (last - reference).timestamp()
        centroids = topic_centroids(corp_vecs[ref]) if ref.any() else None
        findings = classify([sp.post for sp in exec_posts], exec_vecs,
                            [sp.post for sp in corp_posts], corp_vecs, thresholds,
                            corporate_accounts=pair.corporate, centroids=centroids,
                            guardrails=rails)
        store.save_findings(pair.name, model, [
            (sp.pk, sp.text_hash, key, f) for sp, f in zip(exec_posts, findings, strict=True)])
    store.set_value(state_key, {"max_pk": max_pk})
    return PairAnalysis(pair.name, model, len(exec_posts), store.count_posts_of(pair.executive),
                        thresholds)


def _calibrate_pair(store: Store, pair: PairConfig, model: str, rails: Guardrails,
                    lag_days: float, size: int) -> dict | None:
    """Calibrate on the last year of the pair (enough for a stable null, bounded in cost)."""
    _, newest = store.time_range(pair.accounts)
    if newest is None:
        return None
    since = newest - timedelta(days=365)
    exec_posts = store.posts(pair.executive, since=since)
    corp_posts = store.posts(pair.corporate, since=since)
    exec_vecs = store.load_vectors(model, [sp.pk for sp in exec_posts])
    corp_vecs = store.load_vectors(model, [sp.pk for sp in corp_posts])
    cal = calibrate(exec_vecs, _seconds(exec_posts), [sp.post.text for sp in exec_posts],
                    corp_vecs, _seconds(corp_posts), [sp.post.text for sp in corp_posts],
                    rails.vectors, lag_days=lag_days)
    if cal is None:
        # Too little history: remember the size, so the next try waits for a tenth more posts.
        store.save_calibration(pair.name, model, {"posts": size, "insufficient": True})
        return None
    values = _calibration_dict(cal, size)
    store.save_calibration(pair.name, model, values)
    return values


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
    if since is not None and until is not None and since >= until:
        raise UsageError(f"the period starts ({since:%Y-%m-%d %H:%M} UTC) after it ends "
                         f"({until:%Y-%m-%d %H:%M} UTC): give --since before --until.")
    first, last = store.time_range(pair.accounts)
    start = since or first or now
    end = until or max(now, (last or now) + timedelta(seconds=1))
    executives = {a.casefold() for a in pair.executive}
    # Findings of an account since removed from the pair stay stored but are not reported.
    stored = [f for f in store.findings(pair.name, model, since=start, until=end)
              if f.post.account.casefold() in executives]
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
    except StoreError:  # vectors not computed yet: drift is unknown, not an error
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
    rails, vec = guardrails(pair, encoder, with_texts=[embedding_text(text)])
    assert vec is not None
    thresholds = thresholds_for(pair, cfg, store.calibration(pair.name, model))
    centroids = topic_centroids(corp_vecs) if len(corp) else None
    finding = classify([draft], vec, [sp.post for sp in corp], corp_vecs, thresholds,
                       corporate_accounts=pair.corporate, centroids=centroids,
                       guardrails=rails)[0]
    in_window = [i for i, sp in enumerate(corp) if abs(sp.post.created_at - now) <= lag]
    sims = corp_vecs[in_window] @ vec[0] if in_window else np.zeros(0)
    order = np.argsort(-sims)[:limit]
    neighbours = [(corp[in_window[j]].post, float(sims[j])) for j in order]
    return CheckResult(finding, neighbours, thresholds)

