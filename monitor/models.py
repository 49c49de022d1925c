"""Plain dataclasses that cross module boundaries.

ORM rows, tweepy objects and numpy arrays stay inside their modules; what travels between the
store, the importers, the analysis and the reports is one of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class PostKind(StrEnum):
    """How a post relates to other posts, as X tells it."""

    ORIGINAL = "original"
    REPLY = "reply"
    RETWEET = "retweet"
    QUOTE = "quote"


class PostClass(StrEnum):
    """The analysis' verdict on one executive post."""

    ECHO = "echo"
    OVERLAP = "overlap"
    OFF_LINE = "off-line"
    COMPLEMENTARY = "complementary"


@dataclass(frozen=True, slots=True)
class Post:
    """One post as the monitor stores it. `created_at` is timezone-aware UTC."""

    post_id: str
    account: str
    created_at: datetime
    text: str
    platform: str = "x"
    lang: str | None = None
    kind: PostKind = PostKind.ORIGINAL
    referenced_ids: tuple[str, ...] = ()
    referenced_accounts: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    edit_history: tuple[str, ...] = ()
    author_id: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """An X account known to the store."""

    username: str
    platform: str = "x"
    user_id: str | None = None
    display_name: str | None = None
    status: str = "active"
    status_detail: str | None = None


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """Per-account figures for `monitor status`."""

    platform: str
    username: str
    posts: int
    newest: datetime | None
    oldest: datetime | None
    user_id: str | None
    status: str
    since_id: str | None
    status_detail: str | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The thresholds one analysis used, and why (calibrated or configured)."""

    overlap: float
    lexical: float
    offline: float
    offlimits: float
    lag_days: float
    source: str  # e.g. "calibrated on 1,200 unrelated pairs" or "configured"
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Finding:
    """The verdict on one executive post, with what explains it."""

    post_id: str
    account: str
    created_at: datetime
    post_class: PostClass
    reason: str
    similarity: float | None = None
    lexical: float | None = None
    nearest_id: str | None = None
    nearest_account: str | None = None
    line_similarity: float | None = None
    offlimits_topic: str | None = None
    offlimits_similarity: float | None = None
    shared_terms: tuple[str, ...] = ()
