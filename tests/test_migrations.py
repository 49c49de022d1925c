"""Alembic migrations on every backend: they build exactly the schema the code declares."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import Result

from monitor.store import Store
from monitor.store.migrate import current_revision, head_revision
from monitor.store.schema import Base
from tests.harness.cli import run_cli


def test_migrations_match_the_models(empty_db_url: str) -> None:
    from sqlalchemy import create_engine

    before = create_engine(empty_db_url)
    assert current_revision(before) is None  # nothing there yet: the migrations build it all
    before.dispose()
    store = Store.open(empty_db_url)
    try:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
        # Opening again is a no-op, not a second migration.
        Store.open(empty_db_url).close()
        assert current_revision(store.engine) == head_revision()
    finally:
        store.close()


def test_cli_end_to_end_on_each_backend(db_url: str, tmp_path: Path) -> None:
    """The same commands on SQLite and PostgreSQL (MONITOR_DATABASE_URL overrides the file)."""
    posts = tmp_path / "p.jsonl"
    posts.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "1", "account": "brand", "created_at": "2026-10-01T08:00:00Z",
         "text": "Lancement de la Lanterne Nomade, lampe d'extérieur rechargeable."},
        {"id": "2", "account": "ceo", "created_at": "2026-10-01T10:00:00+02:00",
         "text": "RT @brand: Lancement de la Lanterne Nomade, lampe d'extérieur rechargeable."},
        {"id": "3", "account": "ceo", "created_at": "2026-10-02T10:00:00Z",
         "text": "Randonnée dans les Écrins ce week-end."}]) + "\n", encoding="utf-8")
    (tmp_path / "conf").mkdir()
    cfg = tmp_path / "conf" / "monitor.toml"
    cfg.write_text('[model]\nname = "use-multilingual"\n[[pairs]]\nname = "p"\n'
                   'executive = ["ceo"]\ncorporate = ["brand"]\n', encoding="utf-8")

    def run(*args: str) -> Result:
        return run_cli("--config", str(cfg), *args, env={"MONITOR_DATABASE_URL": db_url})

    assert run("init").exit_code == 0
    assert run("ingest", "--from-jsonl", str(posts)).exit_code == 0
    assert run("ingest", "--from-jsonl", str(posts)).exit_code == 0
    analysed = run("analyse")
    assert analysed.exit_code == 0, analysed.stderr
    report = run("report", "--since", "2026-09-01", "--format", "json")
    assert report.exit_code == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["totals"]["posts"] == 2 and data["totals"]["counts"]["echo"] == 1
    status = json.loads(run("status", "--json").stdout)
    assert {a["username"]: a["posts"] for a in status["accounts"]} == {"brand": 1, "ceo": 2}
    assert not (tmp_path / "conf" / "monitor.db").exists()  # the environment's URL was used


def test_the_known_head_is_alembics_head() -> None:
    """Commands open an up-to-date database without importing Alembic, by comparing its
    revision with this constant: it must name the newest migration."""
    from monitor.store.migrate import HEAD, head_revision

    assert head_revision() == HEAD
