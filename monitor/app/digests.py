"""The daily digest: built per local day and recipient list, queued once, sent now or by the
service (application layer: the email itself is composed by `monitor.notify.digest`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from monitor.app import freshness as state
from monitor.app.alerting import load_alert_state
from monitor.app.drift import pair_drift
from monitor.app.reports import build_report
from monitor.config import MonitorConfig, PairConfig, Secrets
from monitor.errors import ConfigError
from monitor.notify.digest import (
    DigestEmail,
    PairDigestInput,
    QueuedDigest,
    compose,
    day_bounds,
    queue_digests,
)
from monitor.notify.outbox import DeliveryReport, addressing_for, deliver_pending, transports_for
from monitor.store import Store


def build_digests(store: Store, cfg: MonitorConfig, day: date, *,
                  pairs: Sequence[PairConfig] | None = None,
                  now: datetime | None = None) -> list[DigestEmail]:
    """The digest emails for `day` (a local date), one per recipient list and language."""
    now = now or datetime.now(UTC)
    tz = cfg.schedule.timezone
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


@dataclass(frozen=True)
class Sending:
    """`monitor digest --send`: what queueing each digest did, and what the delivery pass that
    followed sent (it also delivers what was already waiting in the outbox)."""

    queued: list[QueuedDigest]
    delivery: DeliveryReport


def send_now(store: Store, cfg: MonitorConfig, secrets: Secrets,
             digests: Sequence[DigestEmail], now: datetime) -> Sending:
    """Queue the digests (once: a digest already sent is not sent again) and deliver
    everything queued now, whatever its backoff: the person asking wants it sent."""
    missing = [", ".join(p.pair for p in d.pairs) for d in digests if not d.recipients]
    if missing:
        raise ConfigError(f"{cfg.source}: no recipients for the digest of {missing[0]}: "
                          "set [email] recipients, or recipients in its [[pairs]] table.")
    queued = queue_digests(store, cfg, digests, now, send_when_empty=cfg.email.send_when_empty)
    report = deliver_pending(store, transports_for(cfg, secrets), lambda: datetime.now(UTC),
                             ignore_backoff=True, addressing=addressing_for(cfg))
    return Sending(queued, report)
