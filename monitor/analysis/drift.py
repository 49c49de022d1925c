"""Voice drift: has the executive's recent voice moved away from their own baseline? (pure)

A two-sample test on embeddings: the maximum mean discrepancy (MMD, Gaussian kernel with the
median-distance bandwidth) between baseline and recent posts, with a permutation p-value. A
handful of posts, or a quiet week, cannot reach significance, so it raises no alarm; the test
also reports whether the recent posts moved toward or away from the corporate voice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SAMPLE = 300


@dataclass(frozen=True)
class DriftResult:
    status: str  # "drift", "stable" or "insufficient data"
    p_value: float | None
    mmd2: float | None
    n_baseline: int
    n_recent: int
    corporate_similarity_baseline: float | None
    corporate_similarity_recent: float | None
    direction: str  # "toward the corporate voice", "away from the corporate voice", "steady"
    message: str


def mmd_permutation_test(x: np.ndarray, y: np.ndarray, *, permutations: int = 500,
                         seed: int = 0) -> tuple[float, float]:
    """(MMD², permutation p-value) of samples x (n×d) and y (m×d)."""
    z = np.concatenate([x, y]).astype(np.float64)
    n, total = x.shape[0], z.shape[0]
    sq = np.sum(z * z, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (z @ z.T), 0.0)
    off_diag = d2[np.triu_indices(total, 1)]
    bandwidth = float(np.median(off_diag)) or 1.0
    kernel = np.exp(-d2 / bandwidth)
    np.fill_diagonal(kernel, 0.0)  # unbiased estimate: no self-similarity terms

    def stats(labels: np.ndarray) -> np.ndarray:
        # labels: (B, total) with 1 for the x side; all permutations in one matrix product.
        a = labels
        b = 1.0 - labels
        ka = a @ kernel
        kb = b @ kernel
        m = total - n
        xx = np.sum(ka * a, axis=1) / (n * (n - 1))
        yy = np.sum(kb * b, axis=1) / (m * (m - 1))
        xy = np.sum(ka * b, axis=1) / (n * m)
        return np.asarray(xx + yy - 2.0 * xy)

    observed = stats(np.concatenate([np.ones(n), np.zeros(total - n)])[None, :])[0]
    rng = np.random.default_rng(seed)
    base = np.concatenate([np.ones(n), np.zeros(total - n)])
    perms = np.stack([rng.permutation(base) for _ in range(permutations)])
    null = stats(perms)
    p_value = (1.0 + np.sum(null >= observed)) / (permutations + 1.0)
    return float(observed), float(p_value)


def voice_drift(baseline: np.ndarray, recent: np.ndarray, corporate: np.ndarray | None = None,
                *, alpha: float = 0.01, min_baseline: int = 20, min_recent: int = 8,
                permutations: int = 500, seed: int = 0) -> DriftResult:
    """Test whether `recent` executive vectors differ from the `baseline` ones.

    `corporate` (unit vectors of the corporate posts of the same periods) gives the direction:
    mean similarity of the executive posts to the corporate centroid, before and now.
    """
    nb, nr = baseline.shape[0], recent.shape[0]
    before = now = None
    direction = "steady"
    if corporate is not None and corporate.shape[0] and nb and nr:
        centre = corporate.mean(axis=0)
        centre = centre / (np.linalg.norm(centre) or 1.0)
        before = float(np.mean(baseline @ centre))
        now = float(np.mean(recent @ centre))
        if now - before > 0.03:
            direction = "toward the corporate voice"
        elif before - now > 0.03:
            direction = "away from the corporate voice"
    if nb < min_baseline or nr < min_recent:
        return DriftResult("insufficient data", None, None, nb, nr, before, now, direction,
                           f"not enough posts to test ({nr} recent, need {min_recent}; "
                           f"{nb} in baseline, need {min_baseline})")
    # A few hundred posts per side give the test its power; more only cost time (the kernel
    # matrix is quadratic), so busy accounts are tested on a seeded random sample.
    rng = np.random.default_rng(seed)
    if nb > MAX_SAMPLE:
        baseline = baseline[np.sort(rng.choice(nb, MAX_SAMPLE, replace=False))]
    if nr > MAX_SAMPLE:
        recent = recent[np.sort(rng.choice(nr, MAX_SAMPLE, replace=False))]
    mmd2, p = mmd_permutation_test(baseline, recent, permutations=permutations, seed=seed)
    if p < alpha:
        return DriftResult("drift", p, mmd2, nb, nr, before, now, direction,
                           f"the recent voice differs from its baseline (p={p:.3f} < {alpha}), "
                           f"moving {direction}")
    return DriftResult("stable", p, mmd2, nb, nr, before, now, direction,
                       f"no significant change from the baseline (p={p:.3f})")
