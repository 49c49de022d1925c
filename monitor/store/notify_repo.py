"""SQL for the outbox, the alert state and history, and silences.

Functions over a `Store`: each one is one transaction. The outbox is written before anything is
sent; a sender claims a message (a lease), sends it, then marks it sent, each step a guarded
UPDATE, so two senders never both deliver it and a message is marked sent exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, delete, func, select, update
from sqlalchemy.orm import Session

from monitor.store.notify_schema import (
    AlertEventRow,
    AlertStateRow,
    OutboxRow,
    RiskNoticeRow,
    SilenceRow,
)
from monitor.store.repository import Store, _aware

# Columns of alert_state besides the key; the state travels as a plain dict of these, because
# its dataclass belongs to monitor.notify, a floor above the store.
ALERT_STATE_FIELDS = ("status", "pending_count", "sequence", "active_since", "notified",
                      "repeats", "last_notified_at", "last_rate", "last_posts",
                      "last_evaluated_at")
ALERT_EVENT_FIELDS = ("pair", "at", "kind", "sequence", "rate", "posts", "detail")


@dataclass(frozen=True)
class OutboxMessage:
    """A message to queue. `key` makes queueing idempotent."""

    key: str
    channel: str  # "email" or "webhook"
    subject: str
    payload: str
    recipients: tuple[str, ...] = ()
    pair: str | None = None


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    key: str
    channel: str
    pair: str | None
    recipients: tuple[str, ...]
    subject: str
    payload: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    claimed_until: datetime | None = None
    claimed_by: str | None = None
    superseded_at: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to claim a message: taken, or who holds it until when."""

    taken: bool
    holder: str | None = None
    until: datetime | None = None
    sent: bool = False  # already sent (by another sender): nothing to do


@dataclass(frozen=True)
class Queued:
    """What queueing one message did: "queued", "already queued", "re-addressed" (it was
    waiting for other recipients; `previous` names them), or "already sent"."""

    outcome: str
    previous: tuple[str, ...] = ()
    sent_at: datetime | None = None


@dataclass(frozen=True)
class Silence:
    id: int
    pair: str
    starts_at: datetime
    until: datetime
    reason: str
    created_at: datetime
    author: str = ""


@dataclass(frozen=True)
class StoredAlertEvent:
    pair: str
    at: datetime
    kind: str
    sequence: int
    rate: float | None
    posts: int
    detail: str


# -- outbox ----------------------------------------------------------------------------------

def _insert_ignore(session: Session) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the session's backend."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(OutboxRow).on_conflict_do_nothing(index_elements=["key"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(OutboxRow).on_conflict_do_nothing(index_elements=["key"])


def _enqueue(session: Session, messages: Sequence[OutboxMessage], now: datetime) -> list[bool]:
    out = []
    for m in messages:
        stmt: Insert = _insert_ignore(session).values(
            key=m.key, channel=m.channel, pair=m.pair, recipients=list(m.recipients),
            subject=m.subject, payload=m.payload, created_at=now, attempts=0,
            next_attempt_at=now)
        # RETURNING says whether the row went in (rowcount is not reliable with every driver).
        out.append(session.execute(stmt.returning(OutboxRow.id)).first() is not None)
    return out


def enqueue(store: Store, messages: Sequence[OutboxMessage], now: datetime) -> list[bool]:
    """Queue messages; for each, True if queued now, False if its key was already queued."""
    with store.session() as s:
        return _enqueue(s, messages, now)


def queue_latest(store: Store, message: OutboxMessage, now: datetime) -> Queued:
    """Queue a message that is rebuilt on demand (a digest): a copy still waiting under its
    key is replaced by this version, addressed to this message's recipients, so a stale copy
    never goes to recipients the configuration no longer names. A sent one is left alone."""
    with store.session() as s:
        if _enqueue(s, [message], now)[0]:
            return Queued("queued")
        row = s.scalar(select(OutboxRow).where(OutboxRow.key == message.key))
        assert row is not None
        if row.sent_at is not None:
            return Queued("already sent", tuple(row.recipients or ()), _aware(row.sent_at))
        previous = tuple(row.recipients or ())
        row.recipients, row.payload, row.subject = (list(message.recipients), message.payload,
                                                    message.subject)
        row.superseded_at = None
        row.next_attempt_at = now
        if set(previous) != set(message.recipients):
            return Queued("re-addressed", previous)
        return Queued("already queued")


def outbox_entry(store: Store, key: str) -> OutboxEntry | None:
    with store.session() as s:
        row = s.scalar(select(OutboxRow).where(OutboxRow.key == key))
        return _entry(row) if row else None


def pending_messages(store: Store, now: datetime, *, ignore_backoff: bool = False,
                     limit: int = 200) -> list[OutboxEntry]:
    """Unsent messages whose next attempt is due (all unsent ones with ignore_backoff)."""
    with store.session() as s:
        q = select(OutboxRow).where(OutboxRow.sent_at.is_(None),
                                    OutboxRow.superseded_at.is_(None))
        if not ignore_backoff:
            q = q.where(OutboxRow.next_attempt_at <= now)
        rows = s.scalars(q.order_by(OutboxRow.id).limit(limit)).all()
        return [_entry(r) for r in rows]


def claim(store: Store, entry_id: int, now: datetime, until: datetime, *,
          holder: str = "", take_from: str | None = None) -> Claim:
    """Take the delivery of a message until `until`, writing `holder` beside the claim.
    `take_from`: take it over from that holder even before its lease ends (the caller knows
    that process is gone). Otherwise a live claim is reported with its holder and end."""
    with store.session() as s:
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
        return Claim(False, row.claimed_by, _aware(row.claimed_until))


def readdress(store: Store, entry_id: int, recipients: Sequence[str], payload: str) -> None:
    """Point a waiting message at other recipients (its payload's To: header rewritten)."""
    with store.session() as s:
        s.execute(update(OutboxRow).where(OutboxRow.id == entry_id, OutboxRow.sent_at.is_(None))
                  .values(recipients=list(recipients), payload=payload)
                  .execution_options(synchronize_session=False))


def supersede(store: Store, entry_id: int, now: datetime, reason: str) -> None:
    """Never send this message: the configuration no longer names its pair or recipients."""
    with store.session() as s:
        s.execute(update(OutboxRow).where(OutboxRow.id == entry_id, OutboxRow.sent_at.is_(None))
                  .values(superseded_at=now, last_error=reason[:2000], claimed_until=None,
                          claimed_by=None)
                  .execution_options(synchronize_session=False))


def mark_sent(store: Store, entry_id: int, now: datetime) -> bool:
    with store.session() as s:
        result = s.execute(update(OutboxRow).where(
            OutboxRow.id == entry_id, OutboxRow.sent_at.is_(None))
            .values(sent_at=now, last_attempt_at=now, attempts=OutboxRow.attempts + 1,
                    claimed_until=None, claimed_by=None, last_error=None)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def mark_failed(store: Store, entry_id: int, now: datetime, error: str,
                next_attempt_at: datetime) -> None:
    with store.session() as s:
        s.execute(update(OutboxRow).where(OutboxRow.id == entry_id, OutboxRow.sent_at.is_(None))
                  .values(last_attempt_at=now, attempts=OutboxRow.attempts + 1,
                          claimed_until=None, claimed_by=None, last_error=error[:2000],
                          next_attempt_at=next_attempt_at)
                  .execution_options(synchronize_session=False))


def outbox_summary(store: Store) -> dict[str, Any]:
    """Counts and the latest problem, for `monitor status`."""
    with store.session() as s:
        waiting = (OutboxRow.sent_at.is_(None), OutboxRow.superseded_at.is_(None))
        pending, oldest, next_at = s.execute(
            select(func.count(OutboxRow.id), func.min(OutboxRow.created_at),
                   func.min(OutboxRow.next_attempt_at)).where(*waiting)).one()
        superseded = s.scalar(select(func.count(OutboxRow.id))
                              .where(OutboxRow.superseded_at.is_not(None)))
        sent, last_sent = s.execute(select(func.count(OutboxRow.id), func.max(OutboxRow.sent_at))
                                    .where(OutboxRow.sent_at.is_not(None))).one()
        failing = s.scalar(select(OutboxRow).where(*waiting, OutboxRow.last_error.is_not(None))
                           .order_by(OutboxRow.last_attempt_at.desc()).limit(1))
        return {"pending": int(pending), "sent": int(sent), "superseded": int(superseded or 0),
                "oldest_pending_at": _aware(oldest), "next_attempt_at": _aware(next_at),
                "last_sent_at": _aware(last_sent),
                "last_error": failing.last_error if failing else None,
                "last_error_at": _aware(failing.last_attempt_at) if failing else None,
                "last_error_key": failing.key if failing else None}


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id, key=row.key, channel=row.channel, pair=row.pair,
        recipients=tuple(row.recipients or ()), subject=row.subject, payload=row.payload,
        created_at=_req(row.created_at), attempts=row.attempts,
        next_attempt_at=_req(row.next_attempt_at), last_attempt_at=_aware(row.last_attempt_at),
        last_error=row.last_error, sent_at=_aware(row.sent_at),
        claimed_until=_aware(row.claimed_until), claimed_by=row.claimed_by,
        superseded_at=_aware(row.superseded_at))


def _req(value: datetime) -> datetime:
    aware = _aware(value)
    assert aware is not None
    return aware


# -- alert state -----------------------------------------------------------------------------

def alert_state(store: Store, pair: str) -> dict[str, Any] | None:
    """The saved state of a pair's alert (fields of ALERT_STATE_FIELDS), or None."""
    with store.session() as s:
        row = s.get(AlertStateRow, pair)
        return _state_dict(row) if row else None


def alert_states(store: Store) -> dict[str, dict[str, Any]]:
    with store.session() as s:
        return {row.pair: _state_dict(row) for row in s.scalars(select(AlertStateRow))}


def record_alert_evaluation(store: Store, pair: str, state: Mapping[str, Any],
                            events: Sequence[Mapping[str, Any]],
                            messages: Sequence[OutboxMessage], now: datetime, *,
                            risk_posts: Sequence[str] = (), risk_key: str = "") -> list[bool]:
    """Save a pair's new alert state, its transitions, its notifications and the risk posts
    they announce in one transaction, so a restart can neither lose a notification nor queue
    it twice."""
    with store.session() as s:
        for post_id in risk_posts:
            s.merge(RiskNoticeRow(pair=pair, post_id=post_id, notified_at=now, key=risk_key))
        row = s.get(AlertStateRow, pair)
        if row is None:
            row = AlertStateRow(pair=pair)
            s.add(row)
        for name in ALERT_STATE_FIELDS:
            setattr(row, name, state[name])
        s.add_all(AlertEventRow(**{k: e[k] for k in ALERT_EVENT_FIELDS}) for e in events)
        return _enqueue(s, messages, now)


def alert_events(store: Store, pair: str, *, since: datetime | None = None,
                 until: datetime | None = None) -> list[StoredAlertEvent]:
    with store.session() as s:
        q = select(AlertEventRow).where(AlertEventRow.pair == pair)
        if since is not None:
            q = q.where(AlertEventRow.at >= since)
        if until is not None:
            q = q.where(AlertEventRow.at < until)
        return [StoredAlertEvent(pair=r.pair, at=_req(r.at), kind=r.kind, sequence=r.sequence,
                                 rate=r.rate, posts=r.posts, detail=r.detail)
                for r in s.scalars(q.order_by(AlertEventRow.at, AlertEventRow.id))]


def _state_dict(row: AlertStateRow) -> dict[str, Any]:
    out = {name: getattr(row, name) for name in ALERT_STATE_FIELDS}
    for name in ("active_since", "last_notified_at", "last_evaluated_at"):
        out[name] = _aware(out[name])
    return out


# -- silences --------------------------------------------------------------------------------

def add_silence(store: Store, pair: str, until: datetime, reason: str,
                now: datetime, *, author: str = "", starts_at: datetime | None = None) -> Silence:
    with store.session() as s:
        row = SilenceRow(pair=pair, starts_at=starts_at or now, until=until, reason=reason,
                         created_at=now, author=author[:100])
        s.add(row)
        s.flush()
        return _silence(row)


def silences(store: Store, *, pair: str | None = None, active_at: datetime | None = None,
             current_at: datetime | None = None) -> list[Silence]:
    """Silences, newest first; only those in force at `active_at` if given, or those in force
    or still to come at `current_at`."""
    with store.session() as s:
        q = select(SilenceRow)
        if pair is not None:
            q = q.where(SilenceRow.pair == pair)
        if active_at is not None:
            q = q.where(SilenceRow.starts_at <= active_at, SilenceRow.until > active_at)
        if current_at is not None:
            q = q.where(SilenceRow.until > current_at)
        return [_silence(r) for r in s.scalars(q.order_by(SilenceRow.id.desc()))]


def active_silence(store: Store, pair: str, now: datetime) -> Silence | None:
    """The silence in force for `pair` at `now` that lasts longest, if any."""
    current = silences(store, pair=pair, active_at=now)
    return max(current, key=lambda si: si.until) if current else None


def remove_silence(store: Store, silence_id: int) -> bool:
    with store.session() as s:
        result = s.execute(delete(SilenceRow).where(SilenceRow.id == silence_id))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _silence(row: SilenceRow) -> Silence:
    return Silence(id=row.id, pair=row.pair, starts_at=_req(row.starts_at),
                   until=_req(row.until), reason=row.reason, created_at=_req(row.created_at),
                   author=row.author or "")


# -- risk notices ----------------------------------------------------------------------------

def notified_risks(store: Store, pair: str, post_ids: Sequence[str]) -> set[str]:
    """Which of these posts have already been announced as risks for `pair`."""
    with store.session() as s:
        found: set[str] = set()
        for start in range(0, len(post_ids), 500):
            chunk = list(post_ids[start:start + 500])
            found |= set(s.scalars(select(RiskNoticeRow.post_id).where(
                RiskNoticeRow.pair == pair, RiskNoticeRow.post_id.in_(chunk))))
        return found
