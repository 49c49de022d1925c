"""Off-line: unusual both for the brand's line and for the executive's own baseline (pure).

Distance from the corporate line alone measured language more than line: with an English model,
every French post sat far from an English brand, and every English post far from a French one.
A post is off-line only when it is unusual on **both** counts:

- line: its similarity to the brand's topic centroids (spherical k-means over the reference
  period) is below what all but OFFLINE_QUANTILE of the brand's own held-out posts reach;
- own baseline: the mean similarity to its k nearest posts among the executive's own posts of
  the reference period (other days) is below what all but OFFLINE_QUANTILE of the executive's
  posts reach. An executive who often writes in English, or about running, has a baseline that
  holds such posts, so they are not flagged.

Posts with too little substance are never off-line. Both quantiles are small, so the class is
rare by construction (at most about OFFLINE_QUANTILE of the posts).
"""

from __future__ import annotations

import numpy as np

from monitor.analysis.similarity import max_similarity, topic_centroids

OFFLINE_QUANTILE = 0.05
NEIGHBOURS = 3
SAME_SITTING = 12 * 3600.0  # posts this close are one sitting (a thread): not a baseline
BLOCK = 512


def own_baseline_similarity(vecs: np.ndarray, times: np.ndarray, base_vecs: np.ndarray,
                            base_times: np.ndarray, *, reference_days: float,
                            k: int = NEIGHBOURS) -> np.ndarray:
    """Mean similarity of each post to its k nearest baseline posts of other sittings within
    ±reference_days (nan when fewer than k exist)."""
    n = vecs.shape[0]
    out = np.full(n, np.nan)
    if n == 0 or base_vecs.shape[0] < k:
        return out
    reference = reference_days * 86400.0
    # With both sides in time order, a block of posts only meets the baseline posts of its
    # own reference span.
    ordered = bool(np.all(np.diff(times) >= 0) and np.all(np.diff(base_times) >= 0))
    for start in range(0, n, BLOCK):
        rows = slice(start, start + BLOCK)
        lo, hi = 0, base_vecs.shape[0]
        if ordered:
            lo = int(np.searchsorted(base_times, times[rows][0] - reference, side="left"))
            hi = int(np.searchsorted(base_times, times[rows][-1] + reference, side="right"))
        if hi - lo < k:
            continue
        sims = vecs[rows] @ base_vecs[lo:hi].T
        gap = np.abs(base_times[None, lo:hi] - times[rows, None])
        sims = np.where((gap > SAME_SITTING) & (gap <= reference), sims, -np.inf)
        top = -np.partition(-sims, k - 1, axis=1)[:, :k]
        ok = np.all(np.isfinite(top), axis=1)
        out[rows] = np.where(ok, np.where(ok[:, None], top, 0).mean(axis=1), np.nan)
    return out


def line_threshold(corp_vecs: np.ndarray, seed: int = 0) -> float:
    """Line similarity below which only OFFLINE_QUANTILE of held-out corporate posts fall
    (centroids fitted on one half, scored on the other: a post never meets its own centroid).
    −1 when there are too few corporate posts to say what the line is (flags nothing)."""
    n = corp_vecs.shape[0]
    if n < 10:
        return -1.0
    order = np.random.default_rng(seed + 2).permutation(n)
    half_a, half_b = order[: n // 2], order[n // 2:]
    scores = []
    for fit, held in ((half_a, half_b), (half_b, half_a)):
        centres = topic_centroids(corp_vecs[fit], seed=seed)
        scores.append(max_similarity(corp_vecs[held], centres)[0])
    return float(np.quantile(np.concatenate(scores), OFFLINE_QUANTILE))


def own_threshold(own_similarity: np.ndarray) -> float:
    """Own-baseline similarity below which only OFFLINE_QUANTILE of the executive's posts fall
    (−1: not enough posts to tell, flags nothing)."""
    values = own_similarity[np.isfinite(own_similarity)]
    if len(values) < 20:
        return -1.0
    return float(np.quantile(values, OFFLINE_QUANTILE))
