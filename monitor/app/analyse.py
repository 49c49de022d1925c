"""Embed and analyse a pair; check a draft.

The analysis itself is pure (`monitor.analysis`); this module loads what it needs from the
store (only the windows of what is new), picks the encoder, calibrates as history grows, and
saves the findings.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from monitor.analysis.calibrate import calibrate
from monitor.analysis.chance import DAY
from monitor.analysis.classify import OwnBaseline, classify
from monitor.analysis.links import link_set
from monitor.analysis.offlimits import NEUTRAL_EXAMPLES, Guardrails
from monitor.analysis.similarity import topic_centroids
from monitor.analysis.substance import substance
from monitor.analysis.text import embedding_text
from monitor.app.drift import refresh_drift
from monitor.app.models_choice import choose_model, remember
from monitor.app.thresholds import Settings, settings_for, thresholds_for, topics_key
from monitor.config import MonitorConfig, PairConfig
from monitor.embed import Encoder, Encoders
from monitor.errors import MissingVectors, UsageError
from monitor.models import Calibration, Finding, ModelChoice, Post, PostKind, Thresholds
from monitor.store import Store, StoredPost

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
ANALYSIS_VERSION = 2  # part of every findings key: a new version of the rules recomputes them

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


# -- guardrails and thresholds -----------------------------------------------------------------

_RAILS_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], Guardrails] = {}


def guardrails(pair: PairConfig, encoder: Encoder, *,
               with_texts: Sequence[str] = ()) -> tuple[Guardrails, np.ndarray | None]:
    """The pair's off-limits examples (and the neutral counter-examples) as vectors, encoded
    once per model and phrase set; texts in `with_texts` are encoded in the same call (one
    encode for a draft check)."""
    topics = pair.offlimits_topics()
    phrases = tuple((topic, phrase) for topic, examples in topics.items() for phrase in examples)
    key = (encoder.model_id, phrases)
    extra: np.ndarray | None = None
    if key not in _RAILS_CACHE and phrases:
        vecs = encoder.encode([*with_texts, *(p for _, p in phrases), *NEUTRAL_EXAMPLES])
        extra = vecs[:len(with_texts)] if with_texts else None
        body = vecs[len(with_texts):]
        _RAILS_CACHE[key] = Guardrails(body[:len(phrases)], tuple(t for t, _ in phrases),
                                       body[len(phrases):])
    elif with_texts:
        extra = encoder.encode(list(with_texts))
    rails = _RAILS_CACHE.get(key) or Guardrails(np.zeros((0, 1), dtype=np.float32), ())
    return rails, extra


def _findings_key(t: Thresholds, pair: PairConfig, cal: Calibration | None) -> str:
    """Identifies everything a stored finding depends on besides the posts themselves."""
    null = cal.null if cal is not None else None
    payload = json.dumps([ANALYSIS_VERSION, round(t.overlap, 4), round(t.lexical, 4),
                          round(t.offline, 4), round(t.offlimits, 4), round(t.offline_own, 4),
                          t.lag_days, t.recycle_days, t.fdr, t.min_substance,
                          pair.offlimits_topics(), sorted(a.casefold() for a in pair.corporate),
                          [null.size, round(null.tail_start, 4)] if null else None],
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


# -- analyse -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PairAnalysis:
    pair: str
    model: str
    analysed: int
    total: int
    thresholds: Thresholds
    model_reason: str = ""


def _seconds(posts: Sequence[StoredPost]) -> np.ndarray:
    return np.array([sp.post.created_at.timestamp() for sp in posts], dtype=np.float64)


def _encoder_for(store: Store, cfg: MonitorConfig, pair: PairConfig,
                 encoders: Encoders | Encoder) -> tuple[Encoder, ModelChoice]:
    if isinstance(encoders, Encoders):
        choice = choose_model(store, cfg, pair)
        return encoders.get(choice.name), choice
    return encoders, ModelChoice(encoders.model_id, encoders.model_id,
                                 f"the encoder given ({encoders.model_id})", "given")


def analyse_pair(store: Store, cfg: MonitorConfig, pair: PairConfig,
                 encoders: Encoders | Encoder, *, recalibrate: bool = False) -> PairAnalysis:
    """Classify the pair's executive posts that are new, changed, or that a newly arrived
    corporate post may now explain, loading only the posts and vectors of the windows involved
    (work is proportional to what is new, not to the history); recalibrate when the history
    has grown by a tenth or the off-limits topics changed."""
    encoder, choice = _encoder_for(store, cfg, pair, encoders)
    model = encoder.model_id
    remember(store, pair, choice)
    s = settings_for(pair, cfg)
    embed_pending(store, encoder, pair.accounts)
    rails, _ = guardrails(pair, encoder)

    tkey = topics_key(pair, model)
    calibration = store.calibration(pair.name, model)
    size = store.count_posts_of(pair.accounts)
    if (recalibrate or calibration is None or calibration.topics_key != tkey
            or size > 1.1 * calibration.posts):
        calibration = _calibrate_pair(store, pair, model, rails, s, tkey, size) or calibration
    thresholds = thresholds_for(pair, cfg, calibration, model=model)
    key = _findings_key(thresholds, pair, calibration)

    state_key = f"analysis:{pair.name}:{model}"
    last_max_pk = int((store.get_value(state_key) or {}).get("max_pk", 0))
    max_pk = store.max_post_pk()
    todo = {sp.pk: sp for sp in store.posts_needing_findings(pair.name, model, pair.executive,
                                                              key)}
    if last_max_pk:
        for sp in _explained_by_new_corporate(store, pair, model, s, last_max_pk, todo):
            todo.setdefault(sp.pk, sp)
    exec_posts = sorted(todo.values(), key=lambda sp: (sp.post.created_at, sp.pk))
    if exec_posts:
        findings = _classify(store, pair, model, s, thresholds, calibration, rails, exec_posts,
                             first_run=not last_max_pk)
        store.save_findings(pair.name, model, [
            (sp.pk, sp.text_hash, key, f) for sp, f in zip(exec_posts, findings, strict=True)])
    store.set_value(state_key, {"max_pk": max_pk})
    return PairAnalysis(pair.name, model, len(exec_posts), store.count_posts_of(pair.executive),
                        thresholds, choice.why)


def _explained_by_new_corporate(store: Store, pair: PairConfig, model: str, s: Settings,
                                last_max_pk: int,
                                todo: dict[int, StoredPost]) -> list[StoredPost]:
    """Executive posts a corporate post stored since the last run may change: those it
    relays, whose link it shares, or to which it comes closer than their finding's match,
    within the recycling horizon. Others keep their finding."""
    new_corp = store.posts(pair.corporate, after_pk=last_max_pk)
    if not new_corp:
        return []
    horizon = timedelta(days=s.recycle_days)
    lo = min(sp.post.created_at for sp in new_corp) - horizon
    hi = max(sp.post.created_at for sp in new_corp) + horizon
    near = [sp for sp in store.posts(pair.executive, since=lo, until=hi + timedelta(seconds=1))
            if sp.pk not in todo]
    if not near:
        return []
    referenced = {r for sp in new_corp for r in sp.post.referenced_ids}
    links = set().union(*(link_set(sp.post.urls) for sp in new_corp))
    try:
        ev = store.load_vectors(model, [sp.pk for sp in near])
        cv = store.load_vectors(model, [sp.pk for sp in new_corp])
    except MissingVectors:  # not embedded yet: they will be analysed with their vectors
        return near
    sims = ev @ cv.T
    gap = np.abs(_seconds(near)[:, None] - _seconds(new_corp)[None, :])
    best = np.max(np.where(gap <= s.recycle_days * DAY, sims, -np.inf), axis=1)
    stored = store.finding_similarities(pair.name, model, [sp.pk for sp in near])
    out = []
    for sp, b in zip(near, best, strict=True):
        prior = stored.get(sp.pk)
        if (sp.post.post_id in referenced or link_set(sp.post.urls) & links or prior is None
                or b > prior + 1e-6):
            out.append(sp)
    return out


def _classify(store: Store, pair: PairConfig, model: str, s: Settings, thresholds: Thresholds,
              calibration: Calibration | None, rails: Guardrails,
              exec_posts: Sequence[StoredPost], *, first_run: bool) -> list[Finding]:
    first, last = exec_posts[0].post.created_at, exec_posts[-1].post.created_at
    reference = timedelta(days=s.reference_days)
    until = last + reference + timedelta(seconds=1)
    # One load for both voices of the reference period (each query costs more than its rows).
    around = store.posts(pair.accounts, since=first - reference, until=until)
    corporate = {a.casefold() for a in pair.corporate}
    is_corp = np.array([sp.post.account.casefold() in corporate for sp in around], dtype=bool)
    loaded = {sp.pk for sp in around}
    missing = [sp for sp in exec_posts if sp.pk not in loaded]
    vecs = store.load_vectors(model, [sp.pk for sp in around] + [sp.pk for sp in missing])
    row = {sp.pk: i for i, sp in enumerate([*around, *missing])}
    corp_posts = [sp for sp, c in zip(around, is_corp, strict=True) if c]
    corp_vecs = vecs[np.nonzero(is_corp)[0]] if len(around) else vecs[:0]
    own_posts = [sp for sp, c in zip(around, is_corp, strict=True)
                 if not c and substance(sp.post.text) >= s.min_substance]
    own_vecs = vecs[[row[sp.pk] for sp in own_posts]] if own_posts else vecs[:0]
    exec_vecs = vecs[[row[sp.pk] for sp in exec_posts]]
    # The corporate line: topic centroids of the brand's own words over the reference period
    # ending at the newest executive post analysed.
    corp_t = _seconds(corp_posts)
    line = np.array([(last - reference).timestamp() <= t <= last.timestamp() for t in corp_t],
                    dtype=bool)
    line &= np.array([sp.post.kind != PostKind.RETWEET
                      and substance(sp.post.text) >= s.min_substance for sp in corp_posts],
                     dtype=bool)
    centroids = topic_centroids(corp_vecs[line]) if line.any() else None
    # Each stored post stood for two tests (window and ring); a first run has none stored.
    family = [] if first_run else [
        v for p in store.p_values(pair.name, model, since=first - reference, until=first)
        for v in (p, 1.0)]
    return classify([sp.post for sp in exec_posts], exec_vecs, [sp.post for sp in corp_posts],
                    corp_vecs, thresholds, corporate_accounts=pair.corporate,
                    executive_accounts=pair.executive,
                    null=calibration.null if calibration is not None else None,
                    centroids=centroids, guardrails=rails,
                    own=OwnBaseline(own_vecs, _seconds(own_posts),
                                    tuple(sp.post.post_id for sp in own_posts)), family=family,
                    reference_days=s.reference_days)


def _calibrate_pair(store: Store, pair: PairConfig, model: str, rails: Guardrails,
                    s: Settings, tkey: str, size: int) -> Calibration | None:
    """Calibrate on the last year of the pair (enough for a stable null, bounded in cost)."""
    oldest, newest = store.time_range(pair.accounts)
    if newest is None or oldest is None:
        return None
    # Chance is learnt from windows beyond the recycling horizon: a shorter history has none,
    # so there is nothing to load.
    needed = s.recycle_days + 3 * s.lag_days
    if (newest - oldest).total_seconds() < needed * 86400.0:
        cal = Calibration(posts=size, topics_key=tkey, sufficient=False,
                          method=f"not enough history yet ({(newest - oldest).days} days of "
                                 f"posts; calibration needs more than {needed:g})")
        store.save_calibration(pair.name, model, cal)
        return cal
    since = newest - timedelta(days=365)
    exec_posts = store.posts(pair.executive, since=since)
    corp_posts = store.posts(pair.corporate, since=since)
    exec_vecs = store.load_vectors(model, [sp.pk for sp in exec_posts])
    corp_vecs = store.load_vectors(model, [sp.pk for sp in corp_posts])
    cal = calibrate([sp.post for sp in exec_posts], exec_vecs, [sp.post for sp in corp_posts],
                    corp_vecs, rails, lag_days=s.lag_days, recycle_days=s.recycle_days,
                    reference_days=s.reference_days, topics_key=tkey, size=size,
                    min_substance=s.min_substance)
    store.save_calibration(pair.name, model, cal)
    return cal


@dataclass(frozen=True)
class PairRun:
    """`monitor analyse` for one pair: the model chosen, the posts embedded, the analysis."""

    choice: ModelChoice
    model_id: str
    embedded: int
    analysis: PairAnalysis


def analyse_with_model(store: Store, cfg: MonitorConfig, pair: PairConfig,
                       encoders: Encoders, *, recalibrate: bool = False,
                       progress: Progress | None = None) -> PairRun:
    """Embed a pair's new posts with the model its languages call for (reporting progress),
    then analyse it."""
    choice = choose_model(store, cfg, pair)
    encoder = encoders.get(choice.name)
    embedded = embed_pending(store, encoder, pair.accounts, progress)
    analysis = analyse_pair(store, cfg, pair, encoders, recalibrate=recalibrate)
    if analysis.analysed:  # the next report reads the drift, not recomputes it
        refresh_drift(store, cfg, pair, analysis.model)
    return PairRun(choice, encoder.model_id, embedded, analysis)


def analyse_all(store: Store, cfg: MonitorConfig, encoders: Encoders | Encoder,
                pairs: Sequence[PairConfig] | None = None) -> list[PairAnalysis]:
    return [analyse_pair(store, cfg, p, encoders) for p in (pairs or cfg.pairs)]


# -- check -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckResult:
    finding: Finding
    neighbours: list[tuple[Post, float]]
    thresholds: Thresholds
    model_reason: str = ""


def check_draft(store: Store, cfg: MonitorConfig, pair: PairConfig,
                encoders: Encoders | Encoder, text: str, *, now: datetime | None = None,
                limit: int = 5) -> CheckResult:
    """Classify a draft as if posted now by the pair's first executive account."""
    if not text.strip():
        raise UsageError("the draft is empty: pass the text to check, e.g. "
                         "monitor check \"Our new lamp is out\" --pair NAME")
    now = now or datetime.now(UTC)
    encoder, choice = _encoder_for(store, cfg, pair, encoders)
    model = encoder.model_id
    s = settings_for(pair, cfg)
    reference = timedelta(days=s.reference_days)
    lag = timedelta(days=s.lag_days)
    corp = store.posts(pair.corporate, since=now - reference, until=now + lag)
    own = [sp for sp in store.posts(pair.executive, since=now - reference, until=now)
           if substance(sp.post.text) >= s.min_substance]
    embed_pending(store, encoder, pair.accounts)
    corp_vecs = store.load_vectors(model, [sp.pk for sp in corp])
    own_vecs = store.load_vectors(model, [sp.pk for sp in own])
    draft = Post(post_id="0", account=pair.executive[0], created_at=now, text=text)
    rails, vec = guardrails(pair, encoder, with_texts=[embedding_text(text)])
    assert vec is not None
    calibration = store.calibration(pair.name, model)
    thresholds = thresholds_for(pair, cfg, calibration, model=model)
    own_line = [i for i, sp in enumerate(corp) if sp.post.kind != PostKind.RETWEET
                and substance(sp.post.text) >= s.min_substance]
    centroids = topic_centroids(corp_vecs[own_line]) if own_line else None
    finding = classify([draft], vec, [sp.post for sp in corp], corp_vecs, thresholds,
                       corporate_accounts=pair.corporate, executive_accounts=pair.executive,
                       null=calibration.null if calibration is not None else None,
                       centroids=centroids, guardrails=rails,
                       own=OwnBaseline(own_vecs, _seconds(own),
                                       tuple(sp.post.post_id for sp in own)),
                       reference_days=s.reference_days)[0]
    in_window = [i for i, sp in enumerate(corp) if abs(sp.post.created_at - now) <= lag]
    sims = corp_vecs[in_window] @ vec[0] if in_window else np.zeros(0)
    order = np.argsort(-sims)[:limit]
    neighbours = [(corp[in_window[j]].post, float(sims[j])) for j in order]
    return CheckResult(finding, neighbours, thresholds, choice.why)


def check_payload(result: CheckResult) -> dict[str, Any]:
    """A draft check as `monitor check --json` prints it (and a running service answers it):
    these keys are a contract."""
    f = result.finding
    return {"class": f.post_class.value, "reason": f.reason,
            "threshold": result.thresholds.overlap, "lag_days": result.thresholds.lag_days,
            "model_reason": result.model_reason,
            "closest": [{"post_id": p.post_id, "account": p.account, "text": p.text,
                         "created_at": p.created_at.isoformat(), "similarity": round(s, 4)}
                        for p, s in result.neighbours]}
