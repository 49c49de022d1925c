"""Schema migrations: the app brings any database up to the newest schema on start."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

from monitor.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions (a test checks it against Alembic's own head):
# a database already there is opened without importing Alembic, which costs every command
# a good part of its start-up.
HEAD = "0005"


def _alembic_config(connection: object) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: not created yet), read with plain SQL."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Upgrade the schema to head in one transaction (a no-op when already there)."""
    try:
        if current_revision(engine) == HEAD:
            return
        from alembic import command

        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")  # type: ignore[arg-type]
    except Exception as exc:  # any driver or migration failure means the same thing to a user
        # The driver's first line says it (connection refused, disk full); the rest is noise.
        cause = getattr(exc, "orig", None) or exc
        first = (str(cause).strip().splitlines() or [""])[0]
        raise StoreError(
            f"cannot create or upgrade the database schema at {engine.url!r}: "
            f"{type(cause).__name__}: {first}. Check [database] url and that the database is "
            "reachable and writable."
        ) from exc
