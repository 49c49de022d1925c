"""The outbox: messages written before anything is sent (the only SQL of delivery).

Each method is one transaction. A sender claims a message (a lease), sends it, then marks it
sent, each step a guarded UPDATE, so two senders never both deliver it and a message is marked
sent exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, func, select, update
from sqlalchemy.orm import Session

from monitor.models import Claim, OutboxEntry, OutboxMessage, OutboxSummary, Queued
from monitor.store.base import StoreBase
from monitor.store.rows import aware, required_time
from monitor.store.schema import OutboxRow


class OutboxRepository(StoreBase):
    """Queue, claim, send, retry and report the messages of the outbox."""

    def enqueue(self, messages: Sequence[OutboxMessage], now: datetime) -> list[bool]:
        """Queue messages; for each, True if queued now, False if its key was already queued."""
        with self.session() as s:
            return enqueue_in(s, messages, now)

    def queue_latest(self, message: OutboxMessage, now: datetime) -> Queued:
        """Queue a message that is rebuilt on demand (a digest): a copy still waiting under its
        key is replaced by this version, addressed to this message's recipients, so a stale copy
        never goes to recipients the configuration no longer names. A sent one is left alone."""
        with self.session() as s:
            if enqueue_in(s, [message], now)[0]:
                return Queued("queued")
            row = s.scalar(select(OutboxRow).where(OutboxRow.key == message.key))
            assert row is not None
            if row.sent_at is not None:
                return Queued("already sent", tuple(row.recipients or ()), aware(row.sent_at))
            previous = tuple(row.recipients or ())
            row.recipients, row.payload, row.subject = (list(message.recipients), message.payload,
                                                        message.subject)
            row.superseded_at = None
            row.next_attempt_at = now
            if set(previous) != set(message.recipients):
                return Queued("re-addressed", previous)
            return Queued("already queued")

    def outbox_entry(self, key: str) -> OutboxEntry | None:
        with self.session() as s:
            row = s.scalar(select(OutboxRow).where(OutboxRow.key == key))
            return _entry(row) if row else None

    def pending_messages(self, now: datetime, *, ignore_backoff: bool = False,
                         limit: int = 200) -> list[OutboxEntry]:
        """Unsent messages whose next attempt is due (all unsent ones with ignore_backoff)."""
        with self.session() as s:
            q = select(OutboxRow).where(OutboxRow.sent_at.is_(None),
                                        OutboxRow.superseded_at.is_(None))
            if not ignore_backoff:
                q = q.where(OutboxRow.next_attempt_at <= now)
            rows = s.scalars(q.order_by(OutboxRow.id).limit(limit)).all()
            return [_entry(r) for r in rows]

    def claim(self, entry_id: int, now: datetime, until: datetime, *,
              holder: str = "", take_from: str | None = None) -> Claim:
        """Take the delivery of a message until `until`, writing `holder` beside the claim.
        `take_from`: take it over from that holder even before its lease ends (the caller knows
        that process is gone). Otherwise a live claim is reported with its holder and end."""
        with self.session() as s:
            unclaimed = (OutboxRow.claimed_until.is_(None)) | (OutboxRow.claimed_until < now)
            if take_from is not None:
                unclaimed = unclaimed | (OutboxRow.claimed_by == take_from)
            result = s.execute(update(OutboxRow).where(
                OutboxRow.id == entry_id, OutboxRow.sent_at.is_(None),
                OutboxRow.superseded_at.is_(None), unclaimed)
                .values(claimed_until=until, claimed_by=holder or None)
                .execution_options(synchronize_session=False))
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return Claim(True, holder)
            row = s.get(OutboxRow, entry_id)
            if row is None or row.sent_at is not None or row.superseded_at is not None:
                return Claim(False, sent=True)
            return Claim(False, row.claimed_by, aware(row.claimed_until))

    def readdress(self, entry_id: int, recipients: Sequence[str], payload: str) -> None:
        """Point a waiting message at other recipients (its payload's To: header rewritten)."""
        with self.session() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == entry_id, OutboxRow.sent_at.is_(None))
                      .values(recipients=list(recipients), payload=payload)
                      .execution_options(synchronize_session=False))

    def supersede(self, entry_id: int, now: datetime, reason: str) -> None:
        """Never send this message: the configuration no longer names its pair or recipients."""
        with self.session() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == entry_id, OutboxRow.sent_at.is_(None))
                      .values(superseded_at=now, last_error=reason[:2000], claimed_until=None,
                              claimed_by=None)
                      .execution_options(synchronize_session=False))

    def mark_sent(self, entry_id: int, now: datetime) -> bool:
        with self.session() as s:
            result = s.execute(update(OutboxRow).where(
                OutboxRow.id == entry_id, OutboxRow.sent_at.is_(None))
                .values(sent_at=now, last_attempt_at=now, attempts=OutboxRow.attempts + 1,
                        claimed_until=None, claimed_by=None, last_error=None)
                .execution_options(synchronize_session=False))
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def mark_failed(self, entry_id: int, now: datetime, error: str,
                    next_attempt_at: datetime) -> None:
        with self.session() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == entry_id, OutboxRow.sent_at.is_(None))
                      .values(last_attempt_at=now, attempts=OutboxRow.attempts + 1,
                              claimed_until=None, claimed_by=None, last_error=error[:2000],
                              next_attempt_at=next_attempt_at)
                      .execution_options(synchronize_session=False))

    def outbox_summary(self) -> OutboxSummary:
        """Counts and the latest problem, for `monitor status`."""
        with self.session() as s:
            waiting = (OutboxRow.sent_at.is_(None), OutboxRow.superseded_at.is_(None))
            pending, oldest, next_at = s.execute(
                select(func.count(OutboxRow.id), func.min(OutboxRow.created_at),
                       func.min(OutboxRow.next_attempt_at)).where(*waiting)).one()
            superseded = s.scalar(select(func.count(OutboxRow.id))
                                  .where(OutboxRow.superseded_at.is_not(None)))
            sent, last_sent = s.execute(
                select(func.count(OutboxRow.id), func.max(OutboxRow.sent_at))
                .where(OutboxRow.sent_at.is_not(None))).one()
            failing = s.scalar(select(OutboxRow).where(*waiting, OutboxRow.last_error.is_not(None))
                               .order_by(OutboxRow.last_attempt_at.desc()).limit(1))
            return OutboxSummary(
                pending=int(pending), sent=int(sent), superseded=int(superseded or 0),
                oldest_pending_at=aware(oldest), next_attempt_at=aware(next_at),
                last_sent_at=aware(last_sent),
                last_error=failing.last_error if failing else None,
                last_error_at=aware(failing.last_attempt_at) if failing else None,
                last_error_key=failing.key if failing else None)


def _insert_ignore(session: Session) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the session's backend."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(OutboxRow).on_conflict_do_nothing(index_elements=["key"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(OutboxRow).on_conflict_do_nothing(index_elements=["key"])


def enqueue_in(session: Session, messages: Sequence[OutboxMessage], now: datetime) -> list[bool]:
    """Queue messages within an open transaction (the alert evaluation saves its state and its
    notifications together); True for each message queued now."""
    out = []
    for m in messages:
        stmt: Insert = _insert_ignore(session).values(
            key=m.key, channel=m.channel, pair=m.pair, recipients=list(m.recipients),
            subject=m.subject, payload=m.payload, created_at=now, attempts=0,
            next_attempt_at=now)
        # RETURNING says whether the row went in (rowcount is not reliable with every driver).
        out.append(session.execute(stmt.returning(OutboxRow.id)).first() is not None)
    return out


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id, key=row.key, channel=row.channel, pair=row.pair,
        recipients=tuple(row.recipients or ()), subject=row.subject, payload=row.payload,
        created_at=required_time(row.created_at), attempts=row.attempts,
        next_attempt_at=required_time(row.next_attempt_at),
        last_attempt_at=aware(row.last_attempt_at), last_error=row.last_error,
        sent_at=aware(row.sent_at), claimed_until=aware(row.claimed_until),
        claimed_by=row.claimed_by, superseded_at=aware(row.superseded_at))
