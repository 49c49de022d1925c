"""Calibrated thresholds: derived from the similarity of posts known to be unrelated (pure).

Similarity scales differ by model and language (MiniLM puts unrelated English posts near 0.1,
multilingual USE near 0.2, and French posts higher than English under an English model), so a
fixed number is wrong somewhere. For each pair and model, the monitor builds a **null
distribution** — executive posts against corporate posts from distant periods, which cannot be
paraphrases of each other — and places each threshold far in its tail:

- overlap: median + Z_OVERLAP robust standard deviations (MAD) of the null embedding similarity,
  i.e. a false-alarm rate of about 1 in 10,000 unrelated pairs if the null were normal;
- lexical: the same rule on character 5-gram overlap, never below LEXICAL_FLOOR;
- off-line: the similarity to the corporate line below which only OFFLINE_QUANTILE of the brand's
  own posts fall (centroids fitted on one half of the corporate posts, scored on the other);
- off-limits: above every corporate post's similarity to the off-limits examples (the brand does
  not talk party politics), plus a margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.analysis.lexical import lexical_similarity
from monitor.analysis.similarity import max_similarity, topic_centroids

Z_OVERLAP = 3.7
Z_LEXICAL = 6.0
LEXICAL_FLOOR = 0.55
OFFLINE_QUANTILE = 0.02
OFFLIMITS_MARGIN = 0.05
OFFLIMITS_FLOOR = 0.45
DISTANT_DAYS = 14.0
MAX_NULL_PAIRS = 4000
MAX_LEXICAL_PAIRS = 1500
MIN_NULL_PAIRS = 50


@dataclass(frozen=True)
class Calibration:
    overlap: float
    lexical: float
    offline: float
    offlimits: float
    null_pairs: int
    null_median: float
    null_mad: float
    method: str  # one line a report can print


def robust_upper(values: np.ndarray, z: float) -> tuple[float, float, float]:
    """median + z * 1.4826 * MAD, with the median and MAD."""
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median))) * 1.4826
    return median + z * mad, median, mad


def null_pairs(exec_times: np.ndarray, corp_times: np.ndarray, *, min_gap_s: float,
               max_pairs: int = MAX_NULL_PAIRS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random (exec index, corp index) pairs at least `min_gap_s` apart in time."""
    ne, nc = len(exec_times), len(corp_times)
    if ne == 0 or nc == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    draws = max_pairs * 4
    ei = rng.integers(ne, size=draws)
    ci = rng.integers(nc, size=draws)
    keep = np.abs(exec_times[ei] - corp_times[ci]) >= min_gap_s
    pairs = np.unique(np.stack([ei[keep], ci[keep]], axis=1), axis=0)
    if len(pairs) > max_pairs:
        pairs = pairs[rng.choice(len(pairs), size=max_pairs, replace=False)]
    return pairs[:, 0], pairs[:, 1]


def calibrate(exec_vecs: np.ndarray, exec_times: np.ndarray, exec_texts: Sequence[str],
              corp_vecs: np.ndarray, corp_times: np.ndarray, corp_texts: Sequence[str],
              offlimits_vecs: np.ndarray, *, distant_days: float = DISTANT_DAYS,
              seed: int = 0) -> Calibration | None:
    """Thresholds for one pair and model, or None when history is too short to calibrate."""
    ei, ci = null_pairs(exec_times, corp_times, min_gap_s=distant_days * 86400, seed=seed)
    if len(ei) < MIN_NULL_PAIRS:
        return None
    return calibrate_from_null(exec_vecs, exec_texts, corp_vecs, corp_texts, offlimits_vecs,
                               ei, ci, seed=seed,
                               description=f"posts at least {distant_days:g} days apart")


def calibrate_from_null(exec_vecs: np.ndarray, exec_texts: Sequence[str],
                        corp_vecs: np.ndarray, corp_texts: Sequence[str],
                        offlimits_vecs: np.ndarray, ei: np.ndarray, ci: np.ndarray, *,
                        seed: int = 0, description: str = "unrelated pairs") -> Calibration:
    """Thresholds from given unrelated (exec, corp) index pairs."""
    null = np.einsum("ij,ij->i", exec_vecs[ei], corp_vecs[ci])
    overlap, median, mad = robust_upper(null, Z_OVERLAP)
    rng = np.random.default_rng(seed + 1)
    lex_idx = rng.permutation(len(ei))[:MAX_LEXICAL_PAIRS]
    lex_null = np.array([lexical_similarity(exec_texts[ei[i]], corp_texts[ci[i]])
                         for i in lex_idx])
    lexical = max(robust_upper(lex_null, Z_LEXICAL)[0], LEXICAL_FLOOR)
    offline = _offline_threshold(corp_vecs, seed)
    offlimits = OFFLIMITS_FLOOR
    if offlimits_vecs.shape[0] and corp_vecs.shape[0]:
        corp_off, _ = max_similarity(corp_vecs, offlimits_vecs)
        offlimits = max(float(np.quantile(corp_off, 0.99)) + OFFLIMITS_MARGIN, OFFLIMITS_FLOOR)
    return Calibration(
        overlap=float(min(overlap, 0.95)), lexical=float(min(lexical, 0.95)),
        offline=float(offline), offlimits=float(min(offlimits, 0.95)), null_pairs=len(ei),
        null_median=median, null_mad=mad,
        method=(f"calibrated on {len(ei):,} {description}: null similarity median "
                f"{median:.2f}, robust sd {mad:.2f}; overlap = median + {Z_OVERLAP} sd"))


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
