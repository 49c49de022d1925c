"""The outbox never sends to recipients the configuration no longer names without saying so,
and never silently skips a claimed message (issue 11, defects 8 and 9): a waiting copy is
re-addressed (or superseded when its pair is gone), the CLI prints the envelope recipients
really used, and a claim left by a killed `monitor digest --send` is taken over."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_string
from email.policy import default as default_policy
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.models import OutboxEntry, OutboxMessage
from monitor.notify.email import build_email
from monitor.notify.holder import Holder, this_process
from monitor.notify.outbox import addressing_for, deliver_pending
from monitor.store import Store
from tests.harness import ROOT
from tests.harness.cli import with_config as monitor
from tests.harness.net import free_port
from tests.harness.sample import digest_config as write_config
from tests.harness.smtp import SmtpSink

DAY = "2026-10-06"
KEY = f"digest:maison-lumiere:{DAY}"


@pytest.fixture
def workdir(tmp_path: Path, marked_folder: Path) -> Path:
    """This test's copy (m.db) of the sample analysed once per run."""
    shutil.copyfile(marked_folder / "monitor.db", tmp_path / "m.db")
    return tmp_path


def set_recipients(config: Path, old: str, new: str) -> None:
    config.write_text(config.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_stale_digest_is_re_addressed_and_the_cli_prints_the_envelope(workdir: Path) -> None:
    port = free_port()  # nothing listens: the first send fails and the digest waits
    config = write_config(workdir / "monitor.toml", workdir / "m.db", port)
    down = monitor(config, "digest", "--date", DAY, "--send")
    assert down.exit_code == 1 and "wait in the outbox" in down.output
    # The recipients are corrected; the digest is sent again.
    set_recipients(config, '["comms@example.com", "ceo-office@example.com"]',
                   '["claire.comms@example.com"]')
    with SmtpSink(port) as sink:
        back = monitor(config, "digest", "--date", DAY, "--send")
    assert back.exit_code == 0, back.output
    assert ("was waiting in the outbox for comms@example.com, ceo-office@example.com; it now "
            "goes to claire.comms@example.com") in back.output
    assert f"Sent the digest of {DAY} for maison-lumiere to claire.comms@example.com" in \
        back.output
    assert sink.envelopes == [("monitor@example.com", ["claire.comms@example.com"])]
    assert sink.messages[0]["To"] == "claire.comms@example.com"


def _queue(store: Store, pair: str, recipients: tuple[str, ...], key: str) -> None:
    payload = build_email(key=key, sender="monitor@example.com", recipients=recipients,
                          subject="[monitor] FIRING", text="firing")
    store.enqueue([OutboxMessage(key, "email", "[monitor] FIRING", payload, recipients,
                                       pair)], datetime.now(UTC))


def test_waiting_alert_follows_the_configuration_or_is_superseded(workdir: Path) -> None:
    config = write_config(workdir / "monitor.toml", workdir / "m.db", 25)
    cfg = load_config(config)
    sent: list[tuple[tuple[str, ...], str]] = []

    def transport(entry: OutboxEntry) -> None:
        sent.append((entry.recipients, str(message_from_string(
            entry.payload, policy=default_policy)["To"])))

    with Store.open(cfg.database_url()) as store:
        _queue(store, "maison-lumiere", ("old-team@example.com",), "alert:ml:1:firing:email")
        _queue(store, "gone-pair", ("old-team@example.com",), "alert:gone:1:firing:email")
        report = deliver_pending(store, {"email": transport}, lambda: datetime.now(UTC),
                                 addressing=addressing_for(cfg))
        again = deliver_pending(store, {"email": transport}, lambda: datetime.now(UTC),
                                addressing=addressing_for(cfg), ignore_backoff=True)
        summary = store.outbox_summary()
    wanted = ("comms@example.com", "ceo-office@example.com")
    assert sent == [(wanted, ", ".join(wanted))]  # envelope and header both follow the config
    assert report.readdressed == {"alert:ml:1:firing:email": (("old-team@example.com",),
                                                              wanted)}
    assert report.sent_to == {"alert:ml:1:firing:email": wanted}
    assert "no longer in the configuration" in report.superseded["alert:gone:1:firing:email"]
    assert again.sent == () and again.superseded == {}  # superseded: never tried again
    assert summary.pending == 0 and summary.superseded == 1


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def _holder_of(proc: subprocess.Popen[bytes]) -> str:
    from monitor.notify.holder import _start_ticks

    info = _start_ticks(proc.pid)
    return f"{socket.gethostname()}:{proc.pid}:{info[1] if info else ''}"


def test_live_claim_is_reported_and_a_dead_one_is_taken_over(workdir: Path) -> None:
    port = free_port()
    config = write_config(workdir / "monitor.toml", workdir / "m.db", port)
    assert monitor(config, "digest", "--date", DAY, "--send").exit_code == 1  # queued
    cfg = load_config(config)
    other = _sleeper()
    try:
        with Store.open(cfg.database_url()) as store:
            entry = store.outbox_entry(KEY)
            assert entry is not None
            now = datetime.now(UTC)
            until = now + timedelta(minutes=10)
            assert store.claim(entry.id, now, until, holder=_holder_of(other)).taken
        with SmtpSink(port) as sink:
            busy = monitor(config, "digest", "--date", DAY, "--send")
            assert busy.exit_code == 1, busy.output
            assert f"is claimed by another process (pid {other.pid} on " in busy.output
            assert f"retried at {until:%Y-%m-%d %H:%M} UTC" in busy.output
            assert sink.messages == []
            other.kill()
            other.wait()  # gone (reaped): its claim is stale at once, not in 10 minutes
            back = monitor(config, "digest", "--date", DAY, "--send")
        assert back.exit_code == 0, back.output
        assert f"Sent the digest of {DAY}" in back.output and len(sink.messages) == 1
    finally:
        other.kill()
        other.wait()


def test_holder_identity() -> None:
    me = Holder.parse(this_process())
    assert me is not None and me.pid == os.getpid() and not me.is_gone()
    elsewhere = Holder.parse("another-host:1:123")
    assert elsewhere is not None and not elsewhere.is_gone()  # never declared dead from afar
    proc = _sleeper()
    holder = Holder.parse(_holder_of(proc))
    assert holder is not None and not holder.is_gone()
    proc.kill()
    proc.wait()
    assert holder.is_gone()


class BlackHole:
    """An SMTP port that accepts connections and never answers: a send blocks in it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()


def _claimed(db: Path) -> bool:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT claimed_by FROM outbox WHERE key = ?", (KEY,)).fetchone()
    return bool(row and row[0])


@pytest.mark.slow
def test_kill_during_digest_send_then_rerun_sends_it(workdir: Path,
                                                    black_hole: BlackHole) -> None:
    config = write_config(workdir / "monitor.toml", workdir / "m.db", black_hole.port)
    set_recipients(config, "timeout_s = 5", "timeout_s = 60")  # it blocks until killed
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_DATABASE_URL"}
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "digest",
                             "--date", DAY, "--send"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _claimed(workdir / "m.db"):  # the digest is claimed, the send under way
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    port = free_port()
    write_config(config, workdir / "m.db", port)
    with SmtpSink(port) as sink:
        rerun = monitor(config, "digest", "--date", DAY, "--send")
    assert rerun.exit_code == 0, rerun.output  # not "nothing, exit 0" behind a dead claim
    assert f"Sent the digest of {DAY}" in rerun.output and len(sink.messages) == 1

