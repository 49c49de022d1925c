"""Nearest corporate posts within a lag window, vectorised (pure numpy).

Vectors are unit length, so cosine similarity is a dot product. Both sides are sorted by time;
each block of executive posts only meets the contiguous run of corporate posts its window can
reach, so a year of posts never builds a year-by-year matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 256


@dataclass(frozen=True)
class Neighbours:
    """For each executive post: indices of its k nearest corporate posts in the window
    (-1 where fewer exist) and their similarities (-inf there), best first."""

    index: np.ndarray  # (n_exec, k) int64
    similarity: np.ndarray  # (n_exec, k) float32

    @property
    def nearest(self) -> np.ndarray:
        return self.index[:, 0]

    @property
    def best(self) -> np.ndarray:
        return self.similarity[:, 0]


def window_neighbours(exec_vecs: np.ndarray, exec_times: np.ndarray, corp_vecs: np.ndarray,
                      corp_times: np.ndarray, lag_seconds: float, k: int = 3) -> Neighbours:
    """k nearest corporate posts within ±lag of each executive post.

    `*_times` are POSIX seconds (float64); corporate times must be sorted ascending.
    """
    n = exec_vecs.shape[0]
    index = np.full((n, k), -1, dtype=np.int64)
    sims = np.full((n, k), -np.inf, dtype=np.float32)
    if n == 0 or corp_vecs.shape[0] == 0:
        return Neighbours(index, sims)
    if np.any(np.diff(corp_times) < 0):
        raise ValueError("corporate times must be sorted ascending")
    lo_all = np.searchsorted(corp_times, exec_times - lag_seconds, side="left")
    hi_all = np.searchsorted(corp_times, exec_times + lag_seconds, side="right")
    order = np.argsort(exec_times, kind="stable")
    for start in range(0, n, BLOCK):
        rows = order[start:start + BLOCK]
        lo, hi = int(lo_all[rows].min()), int(hi_all[rows].max())
        if hi <= lo:
            continue
        block = exec_vecs[rows] @ corp_vecs[lo:hi].T  # (rows, span)
        cols = np.arange(lo, hi)
        outside = (cols[None, :] < lo_all[rows, None]) | (cols[None, :] >= hi_all[rows, None])
        block = np.where(outside, -np.inf, block)
        kk = min(k, block.shape[1])
        top = np.argpartition(-block, kk - 1, axis=1)[:, :kk]
        top_sims = np.take_along_axis(block, top, axis=1)
        ordering = np.argsort(-top_sims, axis=1, kind="stable")
        top = np.take_along_axis(top, ordering, axis=1)
        top_sims = np.take_along_axis(top_sims, ordering, axis=1)
        found = np.isfinite(top_sims)
        index[rows, :kk] = np.where(found, top + lo, -1)
        sims[rows, :kk] = top_sims
    return Neighbours(index, sims)


def max_similarity(vecs: np.ndarray, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of `vecs`: the best similarity to any row of `refs`, and which row."""
    if refs.shape[0] == 0 or vecs.shape[0] == 0:
        return (np.full(vecs.shape[0], -np.inf, dtype=np.float32),
                np.full(vecs.shape[0], -1, dtype=np.int64))
    sims = vecs @ refs.T
    which = np.argmax(sims, axis=1)
    return sims[np.arange(vecs.shape[0]), which].astype(np.float32), which


def topic_centroids(vecs: np.ndarray, k: int | None = None, *, iterations: int = 25,
                    seed: int = 0) -> np.ndarray:
    """Spherical k-means centroids of the corporate line (unit vectors).

    k defaults to about one topic per 15 posts, between 1 and 12: enough to cover a brand's
    themes without one centroid per post.
    """
    n = vecs.shape[0]
    if n == 0:
        return np.zeros((0, vecs.shape[1] if vecs.ndim == 2 else 0), dtype=np.float32)
    if k is None:
        k = int(np.clip(n // 15, 1, 12))
    k = min(k, n)
    rng = np.random.default_rng(seed)
    # k-means++ seeding on cosine distance: spread-out starting topics, deterministic by seed.
    centres = [int(rng.integers(n))]
    dist = 1.0 - vecs @ vecs[centres[0]]
    for _ in range(1, k):
        weights = np.clip(dist, 0, None) ** 2
        total = weights.sum()
        nxt = int(rng.integers(n)) if total <= 0 else int(rng.choice(n, p=weights / total))
        centres.append(nxt)
        dist = np.minimum(dist, 1.0 - vecs @ vecs[nxt])
    cent = vecs[centres].copy()
    for _ in range(iterations):
        assign = np.argmax(vecs @ cent.T, axis=1)
        new = np.zeros_like(cent)
        np.add.at(new, assign, vecs)
        norms = np.linalg.norm(new, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        new[empty] = cent[empty]
        norms[empty] = 1.0
        new = new / norms
        if np.allclose(new, cent, atol=1e-6):
            break
        cent = new
    return cent.astype(np.float32)
