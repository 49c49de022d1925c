"""The database engine for a URL: which backends, their drivers and SQLite's settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.errors import ConfigError


def display_url(url: str) -> str:
    """A database URL fit for messages and logs: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<invalid database url>"


# A database that does not answer is an error within seconds, not after TCP's minutes.
PG_CONNECT_TIMEOUT_S = 10
SQLITE_BUSY_MS = 30_000  # how long a write waits for another process's (the service's) to end


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
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints rather than at every commit: a killed process loses
    # nothing it committed (the WAL is in the OS's hands), only a power cut can take back the
    # last commits, and the database is never corrupted. Every small write was an fsync.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
