"""SQLAlchemy tables. The migrations in `migrations/versions` create exactly these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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


import monitor.store.notify_schema  # noqa: E402, F401  (registers the outbox and alert tables)
