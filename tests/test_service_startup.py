"""`monitor run` on a full disk gives the same one clean line as every other command (issue 11,
defect 11): the OSError (ENOSPC) is injected where the disk is written at start, the service
lock, the store, the job store."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli

FULL = OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n[[pairs]]\nname = "p"\n'
                    'executive = ["ceo"]\ncorporate = ["brand"]\n', encoding="utf-8")
    return path


def run(config: Path) -> Any:
    return CliRunner().invoke(cli, ["--config", str(config), "run"])


def assert_clean(result: Any, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    for word in words:
        assert word in result.output, result.output


def test_full_disk_in_the_service_lock(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.store.lock as lock

    def full(*_: Any) -> int:
        raise FULL

    monkeypatch.setattr(lock.os, "pwrite", full)
    assert_clean(run(config), "cannot write the service lock file", "No space left on device",
                 "Free some space")


def test_full_disk_when_the_store_opens(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.store import Store

    def full(*_: Any, **__: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", str(config.parent / "m.db"))

    monkeypatch.setattr(Store, "open", full)
    assert_clean(run(config), "No space left on device", "m.db", "free some space")
    other = CliRunner().invoke(cli, ["--config", str(config), "status"])
    assert other.output == run(config).output  # the same line as any other command


def test_full_disk_in_the_job_store(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from sqlalchemy.exc import OperationalError

    def full(*_: Any, **__: Any) -> None:
        raise OperationalError("CREATE TABLE apscheduler_jobs", {},
                               Exception("database or disk is full"))

    monkeypatch.setattr(SQLAlchemyJobStore, "start", full)
    assert_clean(run(config), "cannot open the service's job store", "database or disk is full")
