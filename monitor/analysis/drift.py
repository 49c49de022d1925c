"""Voice drift: has the executive's recent voice moved away from their own history? (pure)

The statistic is the maximum mean discrepancy (MMD, Gaussian kernel, median-distance bandwidth)
between the last window's posts and the baseline before it, expressed as a z-score against
label permutations, so it does not grow with the number of posts.

A plain permutation test assumes posts are exchangeable, but real posts cluster in time (a
conference, a news week, a thread): on a busy real account it fired at 6-7 of 11 fortnightly
checkpoints. So the z-score is compared with **the same statistic on the account's own past
weeks**, each against its own baseline: drift is raised only when this week stands out from
how much this account's weeks usually differ from their past: it must exceed every one of at
least MIN_HISTORY past checkpoints (for a stationary account that happens about once in
MIN_HISTORY + 1 weeks, and less with a longer history), stand HISTORY_CUT robust spreads above
their median (real weekly statistics are heavy-tailed: exceeding the past alone is not
enough), and the permutation test must also reject (p < alpha). A new subject taking over a
week still does all three. A handful of posts, or a history too short to compare with, is
"insufficient data", never an alarm.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_SAMPLE = 200
PERMUTATIONS = 200
HISTORY_CUT = 2.0
MIN_HISTORY = 8
MIN_SPREAD = 0.5


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
    z: float | None = None  # this window's permutation z-score
    history_z: float | None = None  # how it stands against the account's own past weeks
    history_size: int = 0


@functools.lru_cache(maxsize=8)
def _upper(total: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the pairs above the diagonal (the history's tests share their sizes)."""
    return np.triu_indices(total, 1)


def mmd_permutation_test(x: np.ndarray, y: np.ndarray, *, permutations: int = PERMUTATIONS,
                         seed: int = 0) -> tuple[float, float, float]:
    """(MMD², permutation p-value, permutation z-score) of samples x (n×d) and y (m×d)."""
    z = np.concatenate([x, y]).astype(np.float64)
    n, total = x.shape[0], z.shape[0]
    sq = np.sum(z * z, axis=1)
    # The same arithmetic as max(sq_i + sq_j - 2 z_i.z_j, 0) and exp(-d2 / bandwidth), done in
    # place: a report runs thirteen of these tests, and the temporaries cost more than the sums.
    gram = z @ z.T
    gram *= 2.0
    d2 = sq[:, None] + sq[None, :]
    d2 -= gram
    np.maximum(d2, 0.0, out=d2)
    bandwidth = float(np.median(d2[_upper(total)])) or 1.0
    kernel = np.divide(d2, -bandwidth, out=gram)
    np.exp(kernel, out=kernel)
    np.fill_diagonal(kernel, 0.0)  # unbiased estimate: no self-similarity terms
    m = total - n
    column = kernel.sum(axis=0)
    whole = float(column.sum())

    def stats(labels: np.ndarray) -> np.ndarray:
        # labels: (B, total) with 1 for the x side; all permutations in one matrix product.
        # With b = 1 - a, the x-y and y-y sums follow from the x-x sum and the kernel's column
        # sums: one product instead of two, eight times faster than forming b @ kernel.
        a = labels
        xx = np.einsum("ij,ij->i", a @ kernel, a)
        x_all = a @ column
        xy = x_all - xx
        yy = whole - 2.0 * x_all + xx
        return np.asarray(xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2.0 * xy / (n * m))

    base = np.concatenate([np.ones(n), np.zeros(m)])
    observed = stats(base[None, :])[0]
    rng = np.random.default_rng(seed)
    null = stats(np.stack([rng.permutation(base) for _ in range(permutations)]))
    p_value = (1.0 + np.sum(null >= observed)) / (permutations + 1.0)
    spread = float(null.std()) or 1e-12
    return float(observed), float(p_value), float((observed - null.mean()) / spread)


def drift_z(baseline: np.ndarray, recent: np.ndarray, *, min_baseline: int = 20,
            min_recent: int = 8, seed: int = 0) -> tuple[float, float, float] | None:
    """(MMD², p, z) of one window against its baseline, or None with too few posts."""
    if baseline.shape[0] < min_baseline or recent.shape[0] < min_recent:
        return None
    # A couple of hundred posts per side give the test its power; more only cost time (the
    # kernel matrix is quadratic), so busy accounts are tested on a seeded random sample.
    rng = np.random.default_rng(seed)
    if baseline.shape[0] > MAX_SAMPLE:
        baseline = baseline[np.sort(rng.choice(baseline.shape[0], MAX_SAMPLE, replace=False))]
    if recent.shape[0] > MAX_SAMPLE:
        recent = recent[np.sort(rng.choice(recent.shape[0], MAX_SAMPLE, replace=False))]
    return mmd_permutation_test(baseline, recent, seed=seed)


def voice_drift(baseline: np.ndarray, recent: np.ndarray, corporate: np.ndarray | None = None,
                *, history: Sequence[float] = (), alpha: float = 0.01, min_baseline: int = 20,
                min_recent: int = 8, seed: int = 0) -> DriftResult:
    """Test whether `recent` executive vectors differ from the `baseline` ones more than the
    account's past weeks differed from theirs (`history`: their z-scores, from `drift_z`).

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
    result = drift_z(baseline, recent, min_baseline=min_baseline, min_recent=min_recent,
                     seed=seed)
    if result is None:
        return DriftResult("insufficient data", None, None, nb, nr, before, now, direction,
                           f"not enough posts to test ({nr} recent, need {min_recent}; "
                           f"{nb} in baseline, need {min_baseline})")
    mmd2, p, z = result
    past = np.asarray([h for h in history if np.isfinite(h)], dtype=np.float64)
    if len(past) < MIN_HISTORY:
        return DriftResult("insufficient data", p, mmd2, nb, nr, before, now, direction,
                           f"not enough history to compare with ({len(past)} past weeks "
                           f"with enough posts, need {MIN_HISTORY})", z, None, len(past))
    mid = float(np.median(past))
    spread = max(1.4826 * float(np.median(np.abs(past - mid))), MIN_SPREAD)
    hz = (z - mid) / spread
    if p < alpha and hz >= HISTORY_CUT and z > float(past.max()):
        return DriftResult("drift", p, mmd2, nb, nr, before, now, direction,
                           f"this week differs from its baseline more than the account's past "
                           f"weeks did (z {z:.1f} against a usual {mid:.1f}; "
                           f"{hz:.1f} spreads above), moving {direction}", z, hz, len(past))
    return DriftResult("stable", p, mmd2, nb, nr, before, now, direction,
                       f"no unusual change: this week differs from its baseline no more than "
                       f"past weeks did (z {z:.1f}, usual {mid:.1f}, largest "
                       f"{float(past.max()):.1f})", z, hz, len(past))
