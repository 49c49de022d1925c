"""Alert state and history, silences and risk notices (the only SQL of the alerts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, select

from monitor.models import AlertEvent, AlertState, AlertStatus, OutboxMessage, Silence
from monitor.store.base import StoreBase
from monitor.store.outbox_repo import enqueue_in
from monitor.store.rows import aware, required_time
from monitor.store.schema import AlertEventRow, AlertStateRow, RiskNoticeRow, SilenceRow

# Columns of alert_state besides the key.
ALERT_STATE_FIELDS = ("status", "pending_count", "sequence", "active_since", "notified",
                      "repeats", "last_notified_at", "last_rate", "last_posts",
                      "last_evaluated_at")


class AlertRepository(StoreBase):
    """Each pair's alert state and its transitions, silences, and the risks announced."""

    def alert_state(self, pair: str) -> AlertState | None:
        """The saved state of a pair's alert, or None before its first evaluation."""
        with self.session() as s:
            row = s.get(AlertStateRow, pair)
            return _state(row) if row else None

    def alert_states(self) -> dict[str, AlertState]:
        with self.session() as s:
            return {row.pair: _state(row) for row in s.scalars(select(AlertStateRow))}

    def record_alert_evaluation(self, state: AlertState, events: Sequence[AlertEvent],
                                messages: Sequence[OutboxMessage], now: datetime, *,
                                risk_posts: Sequence[str] = (),
                                risk_key: str = "") -> list[bool]:
        """Save a pair's new alert state, its transitions, its notifications and the risk
        posts they announce in one transaction, so a restart can neither lose a notification
        nor queue it twice."""
        with self.session() as s:
            for post_id in risk_posts:
                s.merge(RiskNoticeRow(pair=state.pair, post_id=post_id, notified_at=now,
                                      key=risk_key))
            row = s.get(AlertStateRow, state.pair)
            if row is None:
                row = AlertStateRow(pair=state.pair)
                s.add(row)
            for name in ALERT_STATE_FIELDS:
                value = getattr(state, name)
                setattr(row, name, value.value if isinstance(value, AlertStatus) else value)
            s.add_all(AlertEventRow(**asdict(e)) for e in events)
            return enqueue_in(s, messages, now)

    def alert_events(self, pair: str, *, since: datetime | None = None,
                     until: datetime | None = None) -> list[AlertEvent]:
        """A pair's alert history, oldest first."""
        with self.session() as s:
            q = select(AlertEventRow).where(AlertEventRow.pair == pair)
            if since is not None:
                q = q.where(AlertEventRow.at >= since)
            if until is not None:
                q = q.where(AlertEventRow.at < until)
            return [AlertEvent(pair=r.pair, kind=r.kind, sequence=r.sequence, rate=r.rate,
                               posts=r.posts, at=required_time(r.at), detail=r.detail)
                    for r in s.scalars(q.order_by(AlertEventRow.at, AlertEventRow.id))]

    def add_silence(self, pair: str, until: datetime, reason: str, now: datetime, *,
                    author: str = "", starts_at: datetime | None = None) -> Silence:
        with self.session() as s:
            row = SilenceRow(pair=pair, starts_at=starts_at or now, until=until, reason=reason,
                             created_at=now, author=author[:100])
            s.add(row)
            s.flush()
            return _silence(row)

    def silences(self, *, pair: str | None = None, active_at: datetime | None = None,
                 current_at: datetime | None = None) -> list[Silence]:
        """Silences, newest first; only those in force at `active_at` if given, or those in force
        or still to come at `current_at`."""
        with self.session() as s:
            q = select(SilenceRow)
            if pair is not None:
                q = q.where(SilenceRow.pair == pair)
            if active_at is not None:
                q = q.where(SilenceRow.starts_at <= active_at, SilenceRow.until > active_at)
            if current_at is not None:
                q = q.where(SilenceRow.until > current_at)
            return [_silence(r) for r in s.scalars(q.order_by(SilenceRow.id.desc()))]

    def active_silence(self, pair: str, now: datetime) -> Silence | None:
        """The silence in force for `pair` at `now` that lasts longest, if any."""
        current = self.silences(pair=pair, active_at=now)
        return max(current, key=lambda si: si.until) if current else None

    def remove_silence(self, silence_id: int) -> bool:
        with self.session() as s:
            result = s.execute(delete(SilenceRow).where(SilenceRow.id == silence_id))
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def notified_risks(self, pair: str, post_ids: Sequence[str]) -> set[str]:
        """Which of these posts have already been announced as risks for `pair`."""
        with self.session() as s:
            found: set[str] = set()
            for start in range(0, len(post_ids), 500):
                chunk = list(post_ids[start:start + 500])
                found |= set(s.scalars(select(RiskNoticeRow.post_id).where(
                    RiskNoticeRow.pair == pair, RiskNoticeRow.post_id.in_(chunk))))
            return found


def _state(row: AlertStateRow) -> AlertState:
    values = {name: getattr(row, name) for name in ALERT_STATE_FIELDS}
    for name in ("active_since", "last_notified_at", "last_evaluated_at"):
        values[name] = aware(values[name])
    values["status"] = AlertStatus(values["status"])
    return AlertState(pair=row.pair, **values)


def _silence(row: SilenceRow) -> Silence:
    return Silence(id=row.id, pair=row.pair, starts_at=required_time(row.starts_at),
                   until=required_time(row.until), reason=row.reason,
                   created_at=required_time(row.created_at), author=row.author or "")
