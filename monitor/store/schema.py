"""SQLAlchemy tables. The migrations in `migrations/versions` create exactly these."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from monitor.store.types import PortableJSON, UTCDateTime


class Base(DeclarativeBase):
    pass


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "username_key", name="uq_accounts_username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), default="x")
    username: Mapped[str] = mapped_column(String(64))
    # X usernames are case-insensitive: lookups go through the folded key.
    username_key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_detail: Mapped[str | None] = mapped_column(Text)
    previous_usernames: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PostRow(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("platform", "post_id", name="uq_posts_platform_post_id"),
        Index("ix_posts_account_created", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), default="x")
    post_id: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    author_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="original")
    referenced_ids: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    referenced_accounts: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    urls: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    hashtags: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    mentions: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    edit_history: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    source: Mapped[str] = mapped_column(String(16))
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EmbeddingRow(Base):
    __tablename__ = "embeddings"

    post_pk: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The vector belongs to one version of the text: an edit changes the hash and re-embeds.
    text_hash: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class IngestStateRow(Base):
    __tablename__ = "ingest_state"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    since_id: Mapped[str | None] = mapped_column(String(32))
    # A backfill or catch-up in progress: newest id seen by the run, and how far down it got.
    run_newest_id: Mapped[str | None] = mapped_column(String(32))
    run_until_id: Mapped[str | None] = mapped_column(String(32))
    run_floor_id: Mapped[str | None] = mapped_column(String(32))
    run_start_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Posts X served to the run in progress, across its pages (and restarts): X serves only
    # the newest 3,200 of a timeline, so a run that reaches that many has hit the cap.
    run_served: Mapped[int | None] = mapped_column(Integer)
    # When a run hit the cap: the oldest post X served, and how far back the run wanted to go
    # (the backfill horizon; None when it was catching up from a since_id).
    cap_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cap_oldest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cap_horizon_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReadCountRow(Base):
    __tablename__ = "read_counts"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "YYYY-MM" (UTC)
    posts_read: Mapped[int] = mapped_column(BigInteger, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_pair_created", "pair", "model", "created_at"),)

    pair: Mapped[str] = mapped_column(String(100), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    post_pk: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    post_class: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    similarity: Mapped[float | None] = mapped_column(Float)
    lexical: Mapped[float | None] = mapped_column(Float)
    nearest_post_id: Mapped[str | None] = mapped_column(String(32))
    line_similarity: Mapped[float | None] = mapped_column(Float)
    offlimits_topic: Mapped[str | None] = mapped_column(String(100))
    offlimits_similarity: Mapped[float | None] = mapped_column(Float)
    shared_terms: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    text_hash: Mapped[str] = mapped_column(String(64))
    thresholds_key: Mapped[str] = mapped_column(String(64))
    analysed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    subkind: Mapped[str | None] = mapped_column(String(32))
    substance: Mapped[int | None] = mapped_column(Integer)
    days_apart: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    q_value: Mapped[float | None] = mapped_column(Float)


class CalibrationRow(Base):
    __tablename__ = "calibrations"

    pair: Mapped[str] = mapped_column(String(100), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    values: Mapped[dict[str, Any]] = mapped_column(PortableJSON)


class KeyValueRow(Base):
    """Small persistent facts (e.g. service lease, last digest date)."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# -- the notification side: the outbox, alert state and history, silences, risk notices
# (migration 0002 creates them, 0005 adds silence authors and the risk notices)

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
