"""The daily digest: built per local day and recipient list, queued once, sent now or by the
service (application layer: the email itself is composed by `monitor.notify.digest`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from monitor.app import freshness as state
from monitor.app.alerting import load_alert_state
from monitor.app.analyse import pair_drift
from monitor.app.reports import build_report
from monitor.config import MonitorConfig, PairConfig
from monitor.notify.digest import DigestEmail, PairDigestInput, compose, day_bounds, local_zone
from monitor.store import Store


def build_digests(store: Store, cfg: MonitorConfig, day: date, *,
                  pairs: Sequence[PairConfig] | None = None,
                  now: datetime | None = None) -> list[DigestEmail]:
    """The digest emails for `day` (a local date), one per recipient list and language."""
    now = now or datetime.now(UTC)
    tz = local_zone(cfg)
    start, end = day_bounds(day, tz)
    inputs = []
    for pair in pairs or cfg.pairs:
        report = build_report(store, cfg, pair, since=start - timedelta(days=7),
                                       until=end, now=now)
        _, last = store.time_range(pair.accounts)
        drift_end = min(start, last + timedelta(seconds=1)) if last else start
        inputs.append(PairDigestInput(
            pair=pair, report=report,
            drift_before=pair_drift(store, cfg, pair, report.model, end=drift_end),
            alert=load_alert_state(store, pair.name),
            silence=store.active_silence(pair.name, now),
            events=store.alert_events(pair.name, since=start, until=end),
            voice_day=state.pair_voice(store, pair, start, end, tz),
            voice_week=state.pair_voice(store, pair, start - timedelta(days=6), end, tz),
            unanalysed_day=len(store.unanalysed_posts(pair.name, report.model, pair.executive,
                                                      since=start, until=end))))
    return compose(cfg, inputs, day, now)
