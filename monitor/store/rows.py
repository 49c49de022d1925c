"""Plain values and row conversions shared by the store's modules (no queries here)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.models import Account, Finding, Post, PostClass, PostKind
from monitor.store.schema import AccountRow, PostRow

CHUNK = 500  # keeps IN (...) lists well under every backend's parameter limit


KINDS = {k.value: k for k in PostKind}  # a dict lookup, not Enum.__call__, per row
CLASSES = {c.value: c for c in PostClass}


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def username_key(username: str) -> str:
    return username.strip().removeprefix("@").casefold()


@dataclass(frozen=True, slots=True)
class StoredPost:
    """A post with its database key (used to align vectors and findings)."""

    pk: int
    post: Post
    text_hash: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    inserted: int
    updated: int
    unchanged: int
    accounts: tuple[str, ...] = ()  # the accounts the imported posts belong to

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class StoredFinding:
    finding: Finding
    post: Post
    nearest: Post | None
    text_hash: str
    thresholds_key: str


def chunked(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def utc_now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite gives them back naive)."""
    if value is None:
        return None
    if value.tzinfo is UTC:  # what UTCDateTime gives back: nothing to convert
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def required_time(value: datetime) -> datetime:
    """A NOT NULL timestamp column, aware UTC."""
    moment = aware(value)
    assert moment is not None
    return moment


def post_values(p: Post) -> dict[str, Any]:
    return {
        "author_id": p.author_id, "created_at": p.created_at, "text": p.text, "lang": p.lang,
        "kind": p.kind.value, "referenced_ids": list(p.referenced_ids),
        "referenced_accounts": list(p.referenced_accounts), "urls": list(p.urls),
        "hashtags": list(p.hashtags), "mentions": list(p.mentions),
        "edit_history": list(p.edit_history),
    }


def changed(row: PostRow, values: dict[str, Any]) -> bool:
    for name, value in values.items():
        current = getattr(row, name)
        if name == "created_at":
            if aware(current) != value:
                return True
        elif current != value:
            return True
    return False


# The columns a Post is read from, in the order `post_from` takes them, after the post's key
# and text hash. Positional rows, not ORM objects or per-row dicts: a year's report reads some
# 15,000 posts, and building them is most of what it costs.
POST_COLUMNS = (PostRow.id, PostRow.text_hash, PostRow.post_id, PostRow.created_at,
                PostRow.text, PostRow.platform, PostRow.lang, PostRow.kind,
                PostRow.referenced_ids, PostRow.referenced_accounts, PostRow.urls,
                PostRow.hashtags, PostRow.mentions, PostRow.edit_history, PostRow.author_id)
POST_WIDTH = len(POST_COLUMNS)


def post_from(values: Sequence[Any], username: str, at: int = 0) -> Post:
    """The Post held by `values[at:at + POST_WIDTH]` (a row selected with POST_COLUMNS)."""
    (_, _, post_id, created_at, text, platform, lang, kind, referenced_ids,
     referenced_accounts, urls, hashtags, mentions, edit_history,
     author_id) = values[at:at + POST_WIDTH]
    return Post(post_id, username, aware(created_at) or datetime.min.replace(tzinfo=UTC), text,
                platform, lang, KINDS.get(kind) or PostKind(kind),
                tuple(referenced_ids or ()), tuple(referenced_accounts or ()),
                tuple(urls or ()), tuple(hashtags or ()), tuple(mentions or ()),
                tuple(edit_history or ()), author_id)


def account_of(row: AccountRow) -> Account:
    return Account(username=row.username, platform=row.platform, user_id=row.user_id,
                   display_name=row.display_name, status=row.status,
                   status_detail=row.status_detail)
