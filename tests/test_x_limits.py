"""What X sends, survived and told (issue 11, defects 3 and 12): a 429 whose x-rate-limit-reset
is not a number, reads billed as X bills them (re-reads after timeouts included), and X's cap
of the newest 3,200 posts said per account in the run's line and in `monitor status`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.errors import CollectionFailed
from monitor.ingest.budget import budget_status
from monitor.limits import TIMELINE_CAP
from monitor.store import Store
from tests.harness.x import Sleeps, backfill_fixture, collect, config, write_config
from tests.x_emulator import XEmulator


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite file beside the configuration write_config() writes (the CLI shares it)."""
    with Store.open("sqlite:///" + str(tmp_path / "m.db")) as s:
        yield s


@pytest.mark.parametrize("reset", ["soon", "Wed, 21 Oct 2026 07:28:00 GMT", "", "1e400",
                                   "-5", "nan", "12.5.6", "9" * 400])
def test_429_with_an_unreadable_reset_waits_a_window_and_collects_everyone(
        emu: XEmulator, store: Store, tmp_path: Path, reset: str) -> None:
    backfill_fixture(emu, 20)
    cfg = config(tmp_path, max_rate_limit_wait_s=120)
    emu.add_fault("429", account="claire", headers={"x-rate-limit-reset": reset})
    sleeps = Sleeps()
    report = collect(cfg, store, sleep=sleeps)
    assert {a.username: a.outcome for a in report.accounts} == {"maison": "ok", "claire": "ok"}
    assert sleeps == [61.0]  # an unknown reset: one 60 s window (+1 s), as X's are 15 min
    assert store.count_posts("claire") == 20 and store.count_posts("maison") == 2


def test_429_with_an_unreadable_reset_beyond_the_wait_bound_defers_only_that_account(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    backfill_fixture(emu, 20)
    cfg = config(tmp_path, corporate=("maison", "maisonfr"), max_rate_limit_wait_s=10)
    emu.add_posts("maisonfr", 3, start=datetime.now(UTC) - timedelta(hours=5))
    emu.add_fault("429", account="claire", headers={"x-rate-limit-reset": "soon"})
    lines: list[str] = []
    report = collect(cfg, store, lines=lines)
    outcomes = {a.username: a.outcome for a in report.accounts}
    assert outcomes == {"maison": "ok", "maisonfr": "ok", "claire": "deferred"}
    assert store.count_posts("maisonfr") == 3  # the accounts after it are still collected
    assert any(line.startswith("@claire: deferred") and "unknown time" not in line
               for line in lines), lines
    collect(cfg, store)  # the next run resumes it
    assert store.count_posts("claire") == 20


def test_reads_are_counted_as_x_bills_them_with_re_reads_after_timeouts(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    backfill_fixture(emu, 250)
    cfg = config(tmp_path, timeout_s=0.3, max_retries=3)
    emu.add_fault("slow", account="claire", delay=1.0, times=2)  # page 1: two lost answers
    collect(cfg, store)
    assert emu.wait_idle()  # the answers the client gave up on are served (and billed) too
    assert emu.served_posts == {"claire": 450, "maison": 2}  # page 1 three times
    assert budget_status(cfg, store).reads == emu.billed_posts == 452
    assert store.count_posts("claire") == 250  # stored once

    emu.add_posts("claire", 10, start=datetime.now(UTC) + timedelta(minutes=1))
    emu.add_fault("slow", account="claire", delay=1.0, times=4)  # every try is lost
    with pytest.raises(CollectionFailed):
        collect(cfg, store)
    assert emu.wait_idle() and emu.billed_posts == 452 + 40
    # No answer says what X served: each lost try counts as the page asked for (100), an
    # upper bound, so the monthly read cap is never overrun by what could not be seen.
    assert budget_status(cfg, store).reads == 452 + 4 * 100


def test_the_3200_cap_is_said_in_the_run_line_and_in_status(
        emu: XEmulator, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC)
    emu.add_posts("maison", 2, start=now - timedelta(hours=3))
    emu.add_posts("claire", TIMELINE_CAP + 100, start=now - timedelta(days=20),
                  step=timedelta(minutes=5))
    assert emu.capped == {"claire": TIMELINE_CAP + 100}
    path = write_config(tmp_path)
    lines: list[str] = []
    collect(config(tmp_path), store, lines=lines)
    assert store.count_posts("claire") == TIMELINE_CAP  # all X serves
    claire = next(line for line in lines if line.startswith("@claire"))
    assert "X's cap reached: X serves only the newest 3,200 posts" in claire
    assert "import the account's X archive" in claire
    assert not any("cap" in line for line in lines if line.startswith("@maison"))

    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    status = CliRunner().invoke(cli, ["--config", str(path), "status", "--json"])
    accounts = {a["username"]: a for a in json.loads(status.output)["accounts"]}
    cap = accounts["claire"]["timeline_cap"]
    oldest = min(sp.post.created_at for sp in store.posts(["claire"]))
    assert cap is not None and cap["oldest_served"] == oldest.isoformat()
    assert cap["horizon"] is not None and accounts["maison"]["timeline_cap"] is None
    text = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert "@claire: X's cap reached" in text.output
