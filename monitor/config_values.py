"""Checks of single setting values, shared by the configuration's models and the places that
read a value from the environment (MONITOR_DATABASE_URL, MONITOR_X_API_BASE_URL): what a
database URL, an API base URL, an email address, a username or a name may be."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from monitor.errors import ConfigError

# X usernames: ASCII letters, digits and _ (older exports carry up to 50 characters).
USERNAME = re.compile(r"[A-Za-z0-9_]{1,50}", re.ASCII)
# A plain address: no space, no control character (a line break would forge headers).
ADDRESS = re.compile(r"[^\s@<>,;\x00-\x1f\x7f]{1,64}@[^\s@<>,;\x00-\x1f\x7f]{1,190}")
NAME_CHARS = re.compile(r"[^\x00-\x1f\x7f]{1,100}")
# The database backends the monitor supports, with or without an explicit driver.
DB_SCHEME = re.compile(r"(sqlite|postgresql|postgres)(\+[a-z0-9_]+)?://", re.ASCII)


def address(value: str) -> str:
    value = value.strip()
    if not ADDRESS.fullmatch(value):
        raise ValueError(f"{value[:80]!r} is not an email address (name@example.com)")
    return value


def check_database_url(url: str, *, where: str) -> None:
    """Refuse what cannot be the monitor's database, before anything connects: another
    backend, a malformed URL, or an in-memory SQLite database (it vanishes with the process,
    so an import would report posts stored and leave nothing)."""
    if not isinstance(url, str) or not DB_SCHEME.match(url.strip()):
        raise ConfigError(f"{where}: database url {str(url)[:80]!r} is not a SQLite or "
                          "PostgreSQL URL; use e.g. sqlite:///monitor.db or "
                          "postgresql+psycopg://user@host/db.")
    url = url.strip()
    if url.startswith("sqlite"):
        path = url.split("://", 1)[1].removeprefix("/").split("?", 1)[0]
        query = url.split("?", 1)[1] if "?" in url else ""
        if path in ("", ":memory:") or path.startswith("file::memory:") or \
                "mode=memory" in query:
            raise ConfigError(f"{where}: database url {url!r} is an in-memory SQLite database, "
                              "which is gone when the command ends (nothing would be kept). "
                              "Name a file: sqlite:///monitor.db.")
    elif not re.fullmatch(r"[^\s]+://[^\s/]*(/[^\s]*)?", url):
        raise ConfigError(f"{where}: database url is malformed (spaces or no host part); use "
                          "e.g. postgresql+psycopg://user@host/db.")


def check_base_url(url: str, *, where: str) -> str:
    """An http(s) URL with a host (and maybe a port and path), or ConfigError."""
    try:
        parts = urlsplit(url.strip())
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or \
            any(ch.isspace() for ch in url.strip()):
        raise ConfigError(f"{where} {url[:80]!r} is not an http(s) URL; use e.g. "
                          "https://api.x.com (or the emulator's http://127.0.0.1:8999).")
    return url.strip()
