"""The one-service lock: only one `monitor run` may serve a database.

On PostgreSQL a session-level advisory lock held by a dedicated connection; on SQLite an flock on
a file next to the database. Both die with the process, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from monitor.errors import AlreadyRunningError, StoreError

_PG_LOCK_KEY = int.from_bytes(hashlib.sha256(b"exec-voice-monitor service").digest()[:8],
                              "big", signed=True)


@contextlib.contextmanager
def service_lock(url: str) -> Iterator[None]:
    """Hold the database's service lock, or raise AlreadyRunningError at once."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.store.repository import create_store_engine

    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if not db or db == ":memory:":
            yield  # a private in-memory database cannot be shared
            return
        path = Path(db + ".service.lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the service lock file {path}: {exc.strerror}. "
                             "Check that the database folder exists and is writable.") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                raise AlreadyRunningError(
                    f"another `monitor run` (pid {holder}) already serves {db}: only one "
                    "service may run per database. Stop it first (e.g. `systemctl stop "
                    f"monitor`), or use another [database] url. Lock file: {path}") from None
            try:  # the pid tells a second service who holds the lock
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            except OSError as exc:  # a full disk (ENOSPC), a read-only file system...
                raise StoreError(f"cannot write the service lock file {path}: "
                                 f"{exc.strerror or exc}. Free some space on that disk (or "
                                 "make it writable) and start the service again.") from None
            yield
        finally:
            os.close(fd)  # closing releases the flock; the file stays for the next run
        return
    if parsed.get_backend_name() != "postgresql":
        raise StoreError(f"the service lock supports SQLite and PostgreSQL, not {shown}")
    engine = create_store_engine(url)
    try:
        # A dedicated connection holds the session-level lock for the life of the process.
        try:
            conn = engine.connect()
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                     {"k": _PG_LOCK_KEY}).scalar())
            conn.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot take the service lock on {shown}: "
                             f"{type(exc).__name__}. Check [database] url and that PostgreSQL "
                             "is reachable.") from None
        with conn:
            if not held:
                raise AlreadyRunningError(
                    f"another `monitor run` already serves {shown} (it holds PostgreSQL "
                    f"advisory lock {_PG_LOCK_KEY}): only one service may run per database. "
                    "Stop it first, or use another [database] url.")
            try:
                yield
            finally:
                with contextlib.suppress(SQLAlchemyError):  # closing the connection frees it too
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                    conn.commit()
    finally:
        engine.dispose()
