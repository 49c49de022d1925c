"""Tables of the notification side: the outbox, alert state and history, silences.

Declared on the same `Base` as the rest of the schema, so Alembic sees them; migration 0002
creates them, 0005 adds silence authors and the risk notices.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from monitor.store.schema import Base
from monitor.store.types import PortableJSON, UTCDateTime


class OutboxRow(Base):
    """One outgoing message. Written before any delivery is tried, so nothing is lost."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The idempotency key (e.g. "digest:maison-lumiere:2026-11-23"): a message is queued once.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # "email" or "webhook"
    pair: Mapped[str | None] = mapped_column(String(300))
    recipients: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    subject: Mapped[str] = mapped_column(Text)
    # The full RFC 5322 message for email, the JSON body for a webhook. Never a secret: the
    # webhook URL and SMTP password are read from the environment at delivery time.
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A sender claims a message until this time, so two senders never deliver it both.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who holds the claim ("host:pid:start"), so a claim left by a dead process is reclaimed
    # and a live one is named instead of silently skipped.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the configuration no longer names this message's recipients (or its pair) and
    # it cannot be re-addressed: it is never sent; `last_error` says why.
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertStateRow(Base):
    """The alert state machine's state for one pair (see monitor.notify.alerts.AlertState)."""

    __tablename__ = "alert_state"

    pair: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    active_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_rate: Mapped[float | None] = mapped_column(Float)
    last_posts: Mapped[int] = mapped_column(Integer, default=0)
    last_evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertEventRow(Base):
    """History of alert transitions and notifications, for the digest and for audits."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_pair_at", "pair", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer)
    rate: Mapped[float | None] = mapped_column(Float)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")


class SilenceRow(Base):
    """`monitor silence`: no alert notification for a pair until a time."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair: Mapped[str] = mapped_column(String(100), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who silenced it (`monitor silence --author`, else the OS user), shown with the silence.
    author: Mapped[str] = mapped_column(String(100), default="")


class RiskNoticeRow(Base):
    """Risk posts already announced, so each off-limits post is alerted exactly once."""

    __tablename__ = "risk_notices"

    pair: Mapped[str] = mapped_column(String(100), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key: Mapped[str] = mapped_column(String(300))  # the alert message that announced it
