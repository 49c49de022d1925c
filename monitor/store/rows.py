"""Plain values and row helpers shared by the store's modules (no queries here)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from monitor.errors import ConfigError
from monitor.models import Account, Finding, Post, PostKind
from monitor.store.schema import AccountRow, PostRow

_CHUNK = 500  # keeps IN (...) lists well under every backend's parameter limit


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


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _now() -> datetime:
    return datetime.now(UTC)


def display_url(url: str) -> str:
    """A database URL fit for messages and logs: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<invalid database url>"


# A database that does not answer is an error within seconds, not after TCP's minutes.
PG_CONNECT_TIMEOUT_S = 10


def create_store_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL and a busy timeout. A URL that
    cannot work (malformed, another backend, a missing driver) is a ConfigError (exit 2)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"database url {display_url(url)!r} is not a valid SQLAlchemy URL; "
                          "use e.g. sqlite:///monitor.db or postgresql+psycopg://user@host/db "
                          "([database] url or MONITOR_DATABASE_URL).") from None
    kwargs: dict[str, Any] = {}
    if parsed.drivername.split("+")[0] == "postgres":  # the short scheme some hosts hand out
        parsed = parsed.set(drivername="postgresql" + parsed.drivername[len("postgres"):])
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"database url {display_url(url)!r}: the monitor supports SQLite "
                          "and PostgreSQL only.")
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:
        raise ConfigError(f"cannot use database {parsed.render_as_string(hide_password=True)}: "
                          f"{type(exc).__name__}. Is its driver installed (pip install "
                          "'exec-voice-monitor[postgres]')? Check [database] url or "
                          "MONITOR_DATABASE_URL.") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints rather than at every commit: a killed process loses
    # nothing it committed (the WAL is in the OS's hands), only a power cut can take back the
    # last commits, and the database is never corrupted. Every small write was an fsync.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _plain_rows(session: Session, query: Select[Any]) -> Iterator[tuple[Any, str]]:
    """(post columns as attributes, username) from a select of PostRow's columns + username:
    plain rows, several times faster than ORM objects for thousands of posts."""
    names = [c.name for c in PostRow.__table__.c]
    for row in session.execute(query):
        values = tuple(row)
        yield SimpleNamespace(**dict(zip(names, values[:-1], strict=True))), values[-1]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _post_values(p: Post) -> dict[str, Any]:
    return {
        "author_id": p.author_id, "created_at": p.created_at, "text": p.text, "lang": p.lang,
        "kind": p.kind.value, "referenced_ids": list(p.referenced_ids),
        "referenced_accounts": list(p.referenced_accounts), "urls": list(p.urls),
        "hashtags": list(p.hashtags), "mentions": list(p.mentions),
        "edit_history": list(p.edit_history),
    }


def _changed(row: PostRow, values: dict[str, Any]) -> bool:
    for name, value in values.items():
        current = getattr(row, name)
        if name == "created_at":
            if _aware(current) != value:
                return True
        elif current != value:
            return True
    return False


def _post(row: PostRow, username: str) -> Post:
    return Post(
        post_id=row.post_id, account=username, created_at=_aware(row.created_at)
        or datetime.min.replace(tzinfo=UTC), text=row.text, platform=row.platform, lang=row.lang,
        kind=PostKind(row.kind), referenced_ids=tuple(row.referenced_ids or ()),
        referenced_accounts=tuple(row.referenced_accounts or ()), urls=tuple(row.urls or ()),
        hashtags=tuple(row.hashtags or ()), mentions=tuple(row.mentions or ()),
        edit_history=tuple(row.edit_history or ()), author_id=row.author_id)


def _account(row: AccountRow) -> Account:
    return Account(username=row.username, platform=row.platform, user_id=row.user_id,
                   display_name=row.display_name, status=row.status,
                   status_detail=row.status_detail)
