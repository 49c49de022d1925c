"""Calibrated thresholds: derived from the similarity of posts known to be unrelated (pure).

Similarity scales differ by model and language (MiniLM puts unrelated French posts near 0.3 and
unrelated English ones near 0.1; multilingual USE puts both near 0.15), so a fixed number is
wrong somewhere. For each pair and model the monitor builds a **null distribution** with the
very statistic it thresholds: each executive post's similarity to its *nearest* corporate post,
but in windows shifted weeks away, where no paraphrase can be (the brand still talks about the
same themes there, so same-topic posts are part of the null, as they should be).

- overlap: the NULL_QUANTILE quantile of the shifted-window nearest similarity;
- lexical: the same quantile of the shifted-window character 5-gram overlap, never below
  LEXICAL_FLOOR (a pasted sentence stands far above any chance overlap);
- off-line: the similarity to the corporate line below which only OFFLINE_QUANTILE of the
  brand's own posts fall (centroids fitted on one half of the corporate posts, scored on the
  other, so a post is never scored against a centroid it helped build);
- off-limits: above the brand's own posts' similarity to the off-limits examples (the brand
  does not talk party politics) and above the chance level of the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.analysis.lexical import lexical_similarity
from monitor.analysis.similarity import max_similarity, topic_centroids, window_neighbours

NULL_QUANTILE = 0.99
LEXICAL_FLOOR = 0.6
OFFLINE_QUANTILE = 0.02
OFFLIMITS_QUANTILE = 0.995
OFFLIMITS_MARGIN = 0.05
SHIFT_DAYS = (-35.0, -28.0, -21.0, -14.0, 14.0, 21.0, 28.0, 35.0)
MIN_NULL = 60
MAX_LEXICAL = 2000


@dataclass(frozen=True)
class Calibration:
    overlap: float
    lexical: float
    offline: float
    offlimits: float
    null_size: int
    null_median: float
    method: str  # one line a report can print


def shifted_nearest_null(exec_vecs: np.ndarray, exec_times: np.ndarray, corp_vecs: np.ndarray,
                         corp_times: np.ndarray, lag_seconds: float,
                         shifts_days: Sequence[float] = SHIFT_DAYS
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest-corporate similarity of each executive post in windows shifted by whole weeks.

    Returns (similarities, exec indices, corp indices) of every shifted window that held at
    least one corporate post.
    """
    sims, eis, cis = [], [], []
    for shift in shifts_days:
        neigh = window_neighbours(exec_vecs, exec_times + shift * 86400.0, corp_vecs,
                                  corp_times, lag_seconds, k=1)
        ok = neigh.index[:, 0] >= 0
        sims.append(neigh.similarity[ok, 0])
        eis.append(np.nonzero(ok)[0])
        cis.append(neigh.index[ok, 0])
    if not sims:
        empty = np.zeros(0)
        return empty, empty.astype(np.int64), empty.astype(np.int64)
    return (np.concatenate(sims).astype(np.float64), np.concatenate(eis),
            np.concatenate(cis))


def calibrate(exec_vecs: np.ndarray, exec_times: np.ndarray, exec_texts: Sequence[str],
              corp_vecs: np.ndarray, corp_times: np.ndarray, corp_texts: Sequence[str],
              offlimits_vecs: np.ndarray, *, lag_days: float = 3.0,
              seed: int = 0) -> Calibration | None:
    """Thresholds for one pair and model, or None while history is too short (< MIN_NULL
    shifted windows: about five weeks of both voices)."""
    order = np.argsort(corp_times, kind="stable")
    corp_vecs, corp_times = corp_vecs[order], corp_times[order]
    corp_texts = [corp_texts[i] for i in order]
    sims, ei, ci = shifted_nearest_null(exec_vecs, exec_times, corp_vecs, corp_times,
                                        lag_days * 86400.0)
    if len(sims) < MIN_NULL:
        return None
    return calibrate_from_null(sims, ei, ci, exec_texts, corp_vecs, corp_texts,
                               offlimits_vecs, seed=seed,
                               description="nearest-post similarities in windows shifted "
                                           "2 to 5 weeks away")


def calibrate_from_null(null: np.ndarray, ei: np.ndarray, ci: np.ndarray,
                        exec_texts: Sequence[str], corp_vecs: np.ndarray,
                        corp_texts: Sequence[str], offlimits_vecs: np.ndarray, *,
                        seed: int = 0, description: str = "unrelated pairs") -> Calibration:
    """Thresholds from a null sample `null` of similarities of unrelated (exec ei, corp ci)."""
    overlap = float(np.quantile(null, NULL_QUANTILE))
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(ei))[:MAX_LEXICAL]
    lex_null = np.array([lexical_similarity(exec_texts[ei[i]], corp_texts[ci[i]])
                         for i in pick])
    lexical = max(float(np.quantile(lex_null, NULL_QUANTILE)) if len(lex_null) else 0.0,
                  LEXICAL_FLOOR)
    median = float(np.median(null))
    offline = _offline_threshold(corp_vecs, seed)
    offlimits = float(np.quantile(null, 0.05))  # never below chance nearest-post level
    if offlimits_vecs.shape[0] and corp_vecs.shape[0]:
        corp_off, _ = max_similarity(corp_vecs, offlimits_vecs)
        offlimits = max(offlimits,
                        float(np.quantile(corp_off, OFFLIMITS_QUANTILE)) + OFFLIMITS_MARGIN)
    return Calibration(
        overlap=min(overlap, 0.97), lexical=min(lexical, 0.97), offline=offline,
        offlimits=min(offlimits, 0.97), null_size=len(null), null_median=median,
        method=(f"calibrated on {len(null):,} {description} (median {median:.2f}); "
                f"overlap at their {NULL_QUANTILE:.0%} quantile"))


def _offline_threshold(corp_vecs: np.ndarray, seed: int) -> float:
    """Line similarity below which only OFFLINE_QUANTILE of held-out corporate posts fall."""
    n = corp_vecs.shape[0]
    if n < 10:
        return -1.0  # too few corporate posts to say what the line is: flag nothing
    order = np.random.default_rng(seed + 2).permutation(n)
    half_a, half_b = order[: n // 2], order[n // 2:]
    scores = []
    for fit, held in ((half_a, half_b), (half_b, half_a)):
        centres = topic_centroids(corp_vecs[fit], seed=seed)
        scores.append(max_similarity(corp_vecs[held], centres)[0])
    return float(np.quantile(np.concatenate(scores), OFFLINE_QUANTILE))
