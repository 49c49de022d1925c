"""Calibration: what chance looks like for one pair and model (pure).

Similarity scales differ by model, language and post length, so nothing is a magic number.
From the pair's own history:

- **the chance level of repeats** (`chance.fit_null`): the standardised best match of every
  executive post in windows *far* from it (beyond the recycling horizon, where no repeat is
  sought), pooled; and the 95th percentile of those best matches' similarity as the floor a
  repeat must reach;
- **near-copies**: the 99th percentile of the character 5-gram overlap of far pairs, never
  below LEXICAL_FLOOR (a pasted sentence stands far above any chance overlap);
- **off-line**: the brand-line and own-baseline similarities under which only
  OFFLINE_QUANTILE of the brand's (held-out) and of the executive's posts fall;
- **off-limits**: above the brand's own posts' similarity to the off-limits examples (the brand
  does not take sides) and above the chance level of the model. When the brand's own posts come
  as close to a topic's examples as the examples come to each other, the example-based guardrail
  cannot tell a risk from the brand's normal talk: the calibration says it is *weakened*, and
  why, and the stance cues are what still flags.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monitor.analysis.chance import MIN_NULL, chance_matches, fit_null
from monitor.analysis.lexical import lexical_similarity
from monitor.analysis.offlimits import Guardrails, example_cohesion
from monitor.analysis.offline import line_threshold, own_baseline_similarity, own_threshold
from monitor.analysis.substance import MIN_SUBSTANCE, substance
from monitor.analysis.wordvec import word_vectors
from monitor.models import Calibration, Post, PostKind

LEXICAL_QUANTILE = 0.99
LEXICAL_FLOOR = 0.6
OFFLIMITS_QUANTILE = 0.995
OFFLIMITS_MARGIN = 0.05
MAX_LEXICAL = 2000
DAY = 86400.0


def _seconds(posts: Sequence[Post]) -> np.ndarray:
    return np.array([p.created_at.timestamp() for p in posts], dtype=np.float64)


def calibrate(exec_posts: Sequence[Post], exec_vecs: np.ndarray, corp_posts: Sequence[Post],
              corp_vecs: np.ndarray, rails: Guardrails, *, lag_days: float,
              recycle_days: float, reference_days: float, topics_key: str, size: int,
              min_substance: int = MIN_SUBSTANCE, seed: int = 0) -> Calibration:
    """The pair's calibration; `sufficient=False` while fewer than MIN_NULL far windows exist
    (about two months of both voices)."""
    order = np.argsort(_seconds(corp_posts), kind="stable")
    corp_posts = [corp_posts[i] for i in order]
    corp_vecs = corp_vecs[order]
    exec_t, corp_t = _seconds(exec_posts), _seconds(corp_posts)
    exec_ok = np.array([substance(p.text) >= min_substance for p in exec_posts], dtype=bool)
    corp_ok = np.array([p.kind != PostKind.RETWEET and substance(p.text) >= min_substance
                        for p in corp_posts], dtype=bool)
    words = word_vectors([p.text for p in exec_posts] + [p.text for p in corp_posts])
    chance = chance_matches(exec_vecs, exec_t, exec_ok, corp_vecs, corp_t, corp_ok,
                            lag_days=lag_days, horizon_days=recycle_days,
                            reference_days=reference_days, null=None,
                            exec_words=words[:len(exec_posts)],
                            corp_words=words[len(exec_posts):], collect_far=True, seed=seed)
    if len(chance.far_z) < MIN_NULL:
        return Calibration(posts=size, topics_key=topics_key, sufficient=False,
                           method=f"not enough history yet ({len(chance.far_z)} far windows, "
                                  f"need {MIN_NULL})")
    null = fit_null(chance.far_z, chance.far_cos)
    lexical = max(_lexical_quantile(exec_posts, exec_t, exec_ok, corp_posts, corp_t, corp_ok,
                                    (recycle_days + lag_days) * DAY, seed), LEXICAL_FLOOR)
    recent = corp_t >= corp_t.max() - reference_days * DAY if len(corp_t) else corp_ok
    offline = line_threshold(corp_vecs[corp_ok & recent], seed)
    own = own_baseline_similarity(exec_vecs[exec_ok], exec_t[exec_ok], exec_vecs[exec_ok],
                                  exec_t[exec_ok], reference_days=reference_days)
    offline_own = own_threshold(own)
    offlimits, note = _offlimits_threshold(corp_vecs[corp_ok], rails,
                                           float(np.quantile(chance.far_cos, 0.05)))
    return Calibration(
        posts=size, topics_key=topics_key, sufficient=True, null=null,
        lexical=min(lexical, 0.97), offline=offline, offline_own=offline_own,
        offlimits=min(offlimits, 0.97), guardrail_note=note,
        method=(f"calibrated on {null.size:,} far windows (posts' best matches more than "
                f"{recycle_days:g} days away; median similarity {null.centre:.2f}); repeats "
                f"must stand out from each post's own background and reach "
                f"{null.cos_floor:.2f}"))


def _lexical_quantile(exec_posts: Sequence[Post], exec_t: np.ndarray, exec_ok: np.ndarray,
                      corp_posts: Sequence[Post], corp_t: np.ndarray, corp_ok: np.ndarray,
                      far: float, seed: int) -> float:
    rng = np.random.default_rng(seed + 1)
    ei, ci = np.nonzero(exec_ok)[0], np.nonzero(corp_ok)[0]
    if not len(ei) or not len(ci):
        return 0.0
    a = rng.choice(ei, 4 * MAX_LEXICAL)
    b = rng.choice(ci, 4 * MAX_LEXICAL)
    keep = np.abs(exec_t[a] - corp_t[b]) > far
    a, b = a[keep][:MAX_LEXICAL], b[keep][:MAX_LEXICAL]
    if not len(a):
        return 0.0
    lex = np.array([lexical_similarity(exec_posts[i].text, corp_posts[j].text)
                    for i, j in zip(a, b, strict=True)])
    return float(np.quantile(lex, LEXICAL_QUANTILE))


def _offlimits_threshold(corp_vecs: np.ndarray, rails: Guardrails,
                         chance_level: float) -> tuple[float, str | None]:
    """(threshold, note when the guardrail is weakened)."""
    if rails.vectors.shape[0] == 0 or corp_vecs.shape[0] == 0:
        return max(chance_level, 0.5), None
    sims = corp_vecs @ rails.vectors.T
    best = sims.max(axis=1)
    threshold = max(chance_level,
                    float(np.quantile(best, OFFLIMITS_QUANTILE)) + OFFLIMITS_MARGIN)
    cohesion = example_cohesion(rails)
    if threshold <= cohesion:
        return threshold, None
    topics = np.array(rails.topic)
    which = topics[np.argmax(sims, axis=1)]
    close = best >= cohesion - OFFLIMITS_MARGIN
    names, counts = np.unique(which[close], return_counts=True)
    topic = str(names[np.argmax(counts)]) if len(names) else str(topics[0])
    return threshold, (
        f"the off-limits guardrail is weakened: the brand's own posts come as close to "
        f"'{topic}' as its examples do ({int(close.sum())} of {len(best)} corporate posts), so "
        f"the examples only flag posts above {threshold:.2f} (a paraphrase of an example "
        f"scores about {cohesion:.2f}); stance cues (a side taken, an attack) still flag")
