"""A pair's voice drift, from its stored vectors (application layer: it loads the windows the
pure test in `monitor.analysis.drift` compares; no model needed)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from monitor.analysis.drift import DriftResult, drift_z, voice_drift
from monitor.analysis.substance import substance
from monitor.config import MonitorConfig, PairConfig
from monitor.errors import MissingVectors
from monitor.store import Store

DRIFT_HISTORY_WEEKS = 12


def pair_drift(store: Store, cfg: MonitorConfig, pair: PairConfig, model: str, *,
               end: datetime) -> DriftResult | None:
    """Drift of the last window against the executive's own baseline before it, judged against
    the same statistic on the previous weeks (each against its own baseline)."""
    a = cfg.analysis
    window = timedelta(days=a.drift_window_days)
    baseline = timedelta(days=a.drift_baseline_days)
    week = timedelta(days=7)
    start = end - DRIFT_HISTORY_WEEKS * week - window - baseline
    exec_posts = [(pk, at) for pk, at, text, stored in store.post_moments(
        pair.executive, since=start, until=end, findings_of=(pair.name, model))
        if (substance(text) if stored is None else stored) >= a.min_substance]
    if not exec_posts:
        return None
    recent_start = end - window
    corp_pks = [pk for pk, _, _, _ in store.post_moments(
        pair.corporate, since=recent_start - baseline, until=end)]
    try:
        exec_vecs = store.load_vectors(model, [pk for pk, _ in exec_posts])
        corp_vecs = store.load_vectors(model, corp_pks)
    except MissingVectors:  # vectors not computed yet: drift is unknown, not an error
        return None
    times = np.asarray([at.timestamp() for _, at in exec_posts], dtype=np.float64)

    def split(until: datetime) -> tuple[np.ndarray, np.ndarray]:
        cut, lo = (until - window).timestamp(), (until - window - baseline).timestamp()
        return (exec_vecs[(times >= lo) & (times < cut)],
                exec_vecs[(times >= cut) & (times < until.timestamp())])

    history = []
    for k in range(1, DRIFT_HISTORY_WEEKS + 1):
        past = drift_z(*split(end - k * week), seed=k)
        if past is not None:
            history.append(past[2])
    before, recent = split(end)
    return voice_drift(before, recent, corp_vecs, history=history, alpha=a.drift_alpha)
