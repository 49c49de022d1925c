"""Is an executive post closer to a corporate post than chance explains? (pure numpy)

One global similarity cut lets generic posts through (a post about "our stores" is close to
every week's corporate posts) and misses specific repeats whose similarity is modest. So each
executive post is judged against its **own chance level**:

1. Time around the post is cut into windows as wide as the overlap window (±lag days): the
   window of the post itself, and windows shifted by 2·lag, 4·lag, ... days either way, up to
   the reference period. In each, the post's best match among the brand's posts.
2. The best matches of the *other* windows are the post's background: a robust centre
   (median) and spread (1.4826 × MAD). A post that resembles every week's corporate posts has
   high best matches everywhere, so its best match in its own window does not stand out; a
   specific repeat does, even at a modest similarity. z = (best − centre) / spread.
3. How often does chance reach that z? The pooled survival function G of the same z over
   *far* windows (beyond the recycling horizon, where no repeat is sought), learnt per pair and
   model at calibration, with an exponential tail beyond its 99th percentile so small
   probabilities are smooth. The overlap window is one window: p = G(z). The recycling ring
   (lag to horizon days, either direction) holds k windows: p = 1 − (1 − G(z))^k for its best.
4. Over the period's posts, false discoveries are controlled with Benjamini–Hochberg: a post
   is a repeat when its q-value is at most the FDR level, and its embedding similarity reaches
   what only 1 % of far windows' best matches reach (so a standardised fluke between unrelated
   posts, or a same-subject post with another angle, is never a repeat).

The score of a pair is its embedding similarity plus WORDS_WEIGHT times the cosine of their
IDF-weighted words (`wordvec.py`): the rare words two posts about one specific thing share add
evidence that an embedding, which reads for gist, misses.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitor.models import NullTail

DAY = 86400.0
BLOCK = 256
MIN_BACKGROUND = 6  # fewer background windows: use the pooled centre and spread instead
MIN_SPREAD = 0.02  # similarities of a post to unrelated posts never spread less than this
TAIL_QUANTILE = 0.99
GRID = np.round(np.arange(-4.0, 12.0001, 0.05), 2)  # z values the survival is stored at
FLOOR_QUANTILE = 0.99  # a repeat scores at least what 1 % of far windows' best matches reach
WORDS_WEIGHT = 0.5  # how much shared rare words add to the embedding similarity of a pair
MIN_NULL = 300  # far windows needed before a pair's own null replaces the default one


def survival(null: NullTail, z: np.ndarray) -> np.ndarray:
    """P(Z >= z) under the null, for an array of z (nan gives 1)."""
    z = np.asarray(z, dtype=np.float64)
    body = np.interp(z, GRID, np.asarray(null.survival), left=1.0, right=0.0)
    tail = (1.0 - TAIL_QUANTILE) * np.exp(-(z - null.tail_start) / null.tail_scale)
    out = np.where(z >= null.tail_start, np.minimum(tail, 1.0 - TAIL_QUANTILE), body)
    return np.where(np.isnan(z), 1.0, np.clip(out, 0.0, 1.0))


def null_to_dict(null: NullTail) -> dict[str, Any]:
    return {"survival": [round(s, 8) for s in null.survival], "tail_start": null.tail_start,
            "tail_scale": null.tail_scale, "size": null.size, "cos_floor": null.cos_floor,
            "centre": null.centre, "spread": null.spread}


def null_from_dict(d: Mapping[str, Any]) -> NullTail:
    return NullTail(survival=tuple(float(x) for x in d["survival"]),
                    tail_start=float(d["tail_start"]), tail_scale=float(d["tail_scale"]),
                    size=int(d["size"]), cos_floor=float(d["cos_floor"]),
                    centre=float(d["centre"]), spread=float(d["spread"]))


def fit_null(z: np.ndarray, cos: np.ndarray, *,
             floor_quantile: float = FLOOR_QUANTILE) -> NullTail:
    """The null from far windows' standardised best matches `z` and their similarities `cos`."""
    z = np.sort(np.asarray(z, dtype=np.float64))
    n = len(z)
    surv = 1.0 - np.searchsorted(z, GRID, side="left") / n
    start = float(np.quantile(z, TAIL_QUANTILE))
    excess = z[z > start] - start
    scale = float(excess.mean()) if len(excess) else 0.5
    return NullTail(survival=tuple(float(s) for s in surv), tail_start=start,
                    tail_scale=max(scale, 0.05), size=n,
                    cos_floor=float(np.quantile(cos, floor_quantile)),
                    centre=float(np.median(cos)),
                    spread=max(float(1.4826 * np.median(np.abs(cos - np.median(cos)))),
                               MIN_SPREAD))


def default_null(cos_floor: float) -> NullTail:
    """A conservative null for a pair without enough history: standardised similarities of
    unrelated posts follow a heavy (Laplace-like) tail, so chance is never underestimated."""
    z = GRID
    surv = np.where(z <= 0, 1.0 - 0.5 * np.exp(np.minimum(z, 0) / 0.9),
                    0.5 * np.exp(-np.maximum(z, 0) / 0.9))
    start = float(-0.9 * np.log(2 * (1 - TAIL_QUANTILE)))
    return NullTail(survival=tuple(float(s) for s in surv), tail_start=start,
                    tail_scale=0.9, size=0, cos_floor=cos_floor, centre=0.2, spread=0.1)


@dataclass(frozen=True)
class WindowMatch:
    """For each executive post, its best corporate match in one window, standardised."""

    index: np.ndarray  # (n,) row of the best corporate post in the window, -1 if none
    similarity: np.ndarray  # (n,) its cosine (nan if none)
    score: np.ndarray  # (n,) its score: cosine plus WORDS_WEIGHT × shared-words cosine
    z: np.ndarray  # (n,) its standardised similarity (nan if none)
    candidates: np.ndarray  # (n,) how many windows it was the best of (0: no eligible post)
    p_value: np.ndarray  # (n,) chance of a best match at least this standardised (1 if none)


@dataclass(frozen=True)
class ChanceResult:
    window: WindowMatch  # within ±lag
    ring: WindowMatch  # lag < |Δt| <= horizon (roughly: whole shifted windows)
    centre: np.ndarray  # (n,) background centre of each post (best matches of other windows)
    spread: np.ndarray  # (n,) background spread
    far_z: np.ndarray  # standardised best matches of far windows (for calibration)
    far_cos: np.ndarray  # the best similarity of each far window


def chance_matches(exec_vecs: np.ndarray, exec_times: np.ndarray, exec_ok: np.ndarray,
                   corp_vecs: np.ndarray, corp_times: np.ndarray, corp_ok: np.ndarray, *,
                   lag_days: float, horizon_days: float, reference_days: float,
                   null: NullTail | None, exec_words: np.ndarray | None = None,
                   corp_words: np.ndarray | None = None, collect_far: bool = False,
                   far_limit: int = 400_000, seed: int = 0) -> ChanceResult:
    """Best standardised matches of each executive post in its window and its recycling ring.

    `*_ok` mark the posts that may be judged by similarity (enough substance; for corporate
    posts also: the brand's own words, not a retweet). `*_words` (`wordvec.word_vectors`) add
    shared rare words to the evidence: the score of a pair is its embedding similarity plus
    WORDS_WEIGHT times its word similarity. Corporate times must be sorted. Work is
    done in blocks of executive posts against the span of corporate posts their reference
    period reaches, so a year of posts never builds a year-by-year matrix.
    """
    n = exec_vecs.shape[0]
    centre = np.full(n, np.nan)
    spread = np.full(n, np.nan)
    win, ring = _Match(n), _Match(n)
    far_z: list[np.ndarray] = []
    far_cos: list[np.ndarray] = []
    if n == 0 or corp_vecs.shape[0] == 0:
        empty = _freeze(_Match(n))
        return ChanceResult(empty, empty, centre, spread, np.zeros(0), np.zeros(0))
    if np.any(np.diff(corp_times) < 0):
        raise ValueError("corporate times must be sorted ascending")
    width = 2.0 * lag_days * DAY
    reach = int(np.floor(reference_days * DAY / width + 0.5))  # windows each way
    ring_reach = max(1, int(np.ceil((horizon_days - lag_days) * DAY / width)))
    pooled_c = null.centre if null is not None else 0.2
    pooled_s = null.spread if null is not None else 0.1
    order = np.argsort(exec_times, kind="stable")
    for start in range(0, n, BLOCK):
        rows = order[start:start + BLOCK]
        t = exec_times[rows]
        b = len(rows)
        span = (reach + 0.5) * width
        lo = int(np.searchsorted(corp_times, t.min() - span, side="left"))
        hi = int(np.searchsorted(corp_times, t.max() + span, side="right"))
        if hi <= lo:
            continue
        sims = (exec_vecs[rows] @ corp_vecs[lo:hi].T).astype(np.float64)
        score = sims
        if exec_words is not None and corp_words is not None:
            score = sims + WORDS_WEIGHT * (exec_words[rows] @ corp_words[lo:hi].T)
        which = np.rint((corp_times[None, lo:hi] - t[:, None]) / width).astype(np.int64)
        ok = corp_ok[None, lo:hi] & exec_ok[rows, None] & (np.abs(which) <= reach)
        masked = np.where(ok, score, -np.inf)
        masked_cos = np.where(ok, sims, -np.inf) if collect_far else masked
        # Best match in each window: (b, 2·reach + 1), -inf where a window holds no post.
        starts = window_starts(which, reach)
        bests = window_max(masked, starts)
        best_cos = window_max(masked_cos, starts) if collect_far else bests
        others = bests.copy()
        others[:, reach] = -np.inf
        finite = np.isfinite(others)
        counts = finite.sum(axis=1)
        values = np.where(finite, others, np.nan)
        with warnings.catch_warnings():  # rows without background are all-nan: handled below
            warnings.simplefilter("ignore", RuntimeWarning)
            mid = np.nanmedian(values, axis=1)
            mad = np.nanmedian(np.abs(values - mid[:, None]), axis=1)
        few = counts < MIN_BACKGROUND
        mid = np.where(few, pooled_c, mid)
        sd = np.where(few, pooled_s, np.maximum(1.4826 * np.nan_to_num(mad), MIN_SPREAD))
        centre[rows], spread[rows] = mid, sd
        z = (score - mid[:, None]) / sd[:, None]
        gap = np.abs(corp_times[None, lo:hi] - t[:, None])
        near_ring = (which != 0) & (np.abs(which) <= ring_reach) & (gap <= horizon_days * DAY)
        ring_windows = np.isfinite(bests[:, reach - ring_reach:reach]).sum(axis=1) + \
            np.isfinite(bests[:, reach + 1:reach + ring_reach + 1]).sum(axis=1)
        for target, mask, windows in ((win, ok & (which == 0), np.ones(b, dtype=np.int64)),
                                      (ring, ok & near_ring, ring_windows)):
            zz = np.where(mask, z, -np.inf)
            best = np.argmax(zz, axis=1)
            has = mask.any(axis=1)
            target.index[rows] = np.where(has, best + lo, -1)
            target.similarity[rows] = np.where(has, sims[np.arange(b), best], np.nan)
            target.score[rows] = np.where(has, score[np.arange(b), best], np.nan)
            target.z[rows] = np.where(has, zz[np.arange(b), best], np.nan)
            target.candidates[rows] = np.where(has, windows, 0)
        if collect_far:
            far = np.abs(np.arange(-reach, reach + 1)) > ring_reach
            far_best = bests[:, far]
            keep = np.isfinite(far_best) & ~few[:, None]
            far_z.append(((far_best - mid[:, None]) / sd[:, None])[keep])
            far_cos.append(best_cos[:, far][keep])
    fz = np.concatenate(far_z) if far_z else np.zeros(0)
    fc = np.concatenate(far_cos) if far_cos else np.zeros(0)
    if len(fz) > far_limit:  # a seeded sample keeps calibration bounded on busy pairs
        pick = np.random.default_rng(seed).choice(len(fz), far_limit, replace=False)
        fz, fc = fz[pick], fc[pick]
    if null is not None:
        for target in (win, ring):
            target.p_value[:] = window_p_value(null, target.z, target.candidates)
    return ChanceResult(_freeze(win), _freeze(ring), centre, spread, fz, fc)


def window_starts(which: np.ndarray, reach: int) -> np.ndarray:
    """Where each window begins in each row of the flattened (b, m) matrix `which` (window
    numbers, non-decreasing along each row because corporate times are sorted): (b, W + 1)
    flat offsets for windows -reach..reach and the end of the last one, W = 2·reach + 1.

    Found with one `searchsorted` over the flattened rows (row r's numbers shifted by r·stride
    so the whole array is sorted), instead of one pass over the matrix per window."""
    b = which.shape[0]
    stride = 2 * reach + 3  # numbers clipped to -reach-1..reach+1, shifted to 0..2·reach+2
    shift = (stride * np.arange(b, dtype=np.int64))[:, None]
    keys = (np.clip(which, -reach - 1, reach + 1) + (reach + 1) + shift).ravel()
    wanted = np.arange(1, 2 * reach + 3, dtype=np.int64)[None, :] + shift
    return np.searchsorted(keys, wanted.ravel(), side="left").reshape(b, 2 * reach + 2)


def window_max(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(b, W) maximum of `values` (b, m) over each window of `window_starts`, -inf where a
    window holds no column: one `maximum.reduceat` over the flattened matrix."""
    b = values.shape[0]
    flat = np.append(values.ravel(), -np.inf)  # an offset may point just past the last cell
    out = np.maximum.reduceat(flat, starts.ravel()).reshape(b, -1)[:, :-1]
    return np.where(np.diff(starts, axis=1) > 0, out, -np.inf)


def window_p_value(null: NullTail, z: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Chance that the best of `candidates` windows of unrelated posts reaches z:
    1 − (1 − G(z))ⁿ (G is the survival of one window's standardised best match)."""
    g = survival(null, z)
    n = np.maximum(candidates, 1).astype(np.float64)
    with np.errstate(divide="ignore"):
        p = -np.expm1(n * np.log1p(-np.minimum(g, 1.0 - 1e-16)))
    return np.where(candidates > 0, np.clip(p, 0.0, 1.0), 1.0)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), same order as `p`."""
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.clip(q, 0.0, 1.0)
    return out


def q_values(p: np.ndarray, family: Sequence[float] = ()) -> np.ndarray:
    """q-values of `p` within a family that also holds `family` (p-values of the period's
    posts already decided): the period, not only the batch, sets the multiple-testing bar."""
    extra = np.asarray(list(family), dtype=np.float64)
    q = benjamini_hochberg(np.concatenate([np.asarray(p, dtype=np.float64), extra]))
    return q[:len(p)]


class _Match:
    def __init__(self, n: int) -> None:
        self.index = np.full(n, -1, dtype=np.int64)
        self.similarity = np.full(n, np.nan)
        self.score = np.full(n, np.nan)
        self.z = np.full(n, np.nan)
        self.candidates = np.zeros(n, dtype=np.int64)
        self.p_value = np.ones(n)


def _freeze(m: _Match) -> WindowMatch:
    return WindowMatch(m.index, m.similarity, m.score, m.z, m.candidates, m.p_value)
