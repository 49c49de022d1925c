"""The service: the one-service lock, jobs that fail without stopping it, and `monitor run` as a
real process on a fast schedule (jobs run, alert and digest reach a real SMTP server, SIGTERM
stops it cleanly, a second service on the same database is refused)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from monitor.embed import Encoders
from monitor.errors import AlreadyRunningError, ConfigError, ModelError
from tests.harness import SAMPLE
from tests.harness.net import free_port
from tests.harness.smtp import SmtpSink

PARIS = ZoneInfo("Europe/Paris")


def test_lock_refuses_a_second_service(db_url: str) -> None:
    from monitor.store import Store
    from monitor.store.lock import service_lock

    Store.open(db_url).close()
    with service_lock(db_url):
        with pytest.raises(AlreadyRunningError) as err, service_lock(db_url):
            pass
        assert "already serves" in str(err.value)
        assert "only one service may run per database" in str(err.value)
    with service_lock(db_url):  # released with its holder
        pass


def test_digest_time_and_day(tmp_path: Path) -> None:
    from datetime import time

    from monitor.config import parse_config
    from monitor.notify.digest import default_digest_day

    def cfg(at: str) -> Any:
        return parse_config({"schedule": {"digest_at": at}}, source=str(tmp_path / "m.toml"))

    assert cfg("08:00").schedule.digest_at == time(8, 0, 0)
    assert cfg("23:59:30").schedule.digest_at == time(23, 59, 30)
    for bad in ("8h", "25:00", "08:00:00:00"):
        with pytest.raises(ConfigError, match="digest_at"):
            cfg(bad)
    # 00:30 in Paris on 24 November is still 23 November in UTC: the digest covers the 23rd.
    now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert default_digest_day(cfg("08:00").schedule.timezone, now).isoformat() == "2026-11-23"


def test_a_failing_job_is_logged_with_its_pair_and_does_not_raise(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from monitor import service

    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n[[pairs]]\n'
                      'name = "ml"\nexecutive = ["claire_ml"]\ncorporate = ["MaisonLumiere"]\n',
                      encoding="utf-8")

    class BrokenEncoder:
        model_id = "broken"

        def encode(self, texts: Any, *, progress: Any = None) -> Any:
            raise ModelError("model 'broken' cannot be loaded offline")

    class BrokenEncoders(Encoders):
        def get(self, name: str) -> Any:
            return BrokenEncoder()

    caplog.set_level(logging.INFO, logger="monitor")
    with service.open_runtime(str(config)) as rt:
        from monitor import pipeline

        pipeline.import_jsonl(rt.store, SAMPLE)
        rt._encoders = BrokenEncoders()
        service.run_pair_job(str(config), "ml")  # must not raise
        service.run_pair_job(str(config), "gone")  # a pair removed from the config
        service.run_outbox_job(str(config))
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["pair:ml failed: model 'broken' cannot be loaded offline (retrying at "
                      "its next run)"]
    assert any("X_BEARER_TOKEN is not set; skipping ingestion" in r.getMessage()
               for r in caplog.records)
    assert any("pair:gone: no such pair" in r.getMessage() for r in caplog.records)


# -- `monitor run` as a real process ---------------------------------------------------------

def _posts(now: datetime) -> list[dict[str, Any]]:
    """Corporate posts and executive retweets of them, yesterday (Paris) and the day before."""
    out = []
    yesterday = (now.astimezone(PARIS) - timedelta(days=1)).date()
    for d in range(2):
        day = yesterday - timedelta(days=d)
        for i in range(3):
            at = datetime(day.year, day.month, day.day, 9 + 2 * i, tzinfo=PARIS)
            cid, eid = f"3{d}{i}00000000000001", f"3{d}{i}00000000000002"
            text = f"Atelier ouvert numéro {d}{i} : venez réparer votre lampe avec nous."
            out.append({"id": cid, "account": "MaisonLumiere", "text": text,
                        "created_at": at.astimezone(UTC).isoformat()})
            out.append({"id": eid, "account": "claire_ml", "kind": "retweet",
                        "referenced_id": cid, "referenced_account": "MaisonLumiere",
                        "text": f"RT @MaisonLumiere: {text}",
                        "created_at": (at + timedelta(minutes=20)).astimezone(UTC).isoformat()})
    return out


def _wait(what: str, condition: Callable[[], bool], timeout: float, proc: Any) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the service exited ({proc.returncode}) before {what}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_monitor_run_as_a_process(tmp_path: Path) -> None:
    from monitor.cli import cli

    port = free_port()
    now = datetime.now(UTC)
    # The digest's daily cron is an hour behind (next run ~23 h away): this test never waits
    # on the wall clock. It waits for the alert (the interval job's evaluations), then asks
    # the service to run its jobs now (SIGUSR1): the digest is queued behind the pairs'
    # analysis, so it always sees the alert. (A cron set 8 s ahead raced the evaluations on a
    # loaded machine and made this test flaky.)
    digest_at = (now.astimezone(PARIS) - timedelta(hours=1)).strftime("%H:%M:%S")
    config = tmp_path / "monitor.toml"
    config.write_text(f"""
[database]
url = "sqlite:///{tmp_path / 'm.db'}"
[model]
name = "use-multilingual"
[ui]
language = "en"
[schedule]
timezone = "Europe/Paris"
ingest_every = "2s"
digest_at = "{digest_at}"
[email]
smtp_host = "127.0.0.1"
smtp_port = {port}
security = "none"
recipients = ["comms@example.com"]
timeout_s = 5
[alerts]
threshold = 0.3
for_evaluations = 2
min_posts = 3
[[pairs]]
name = "ml"
executive = ["claire_ml"]
corporate = ["MaisonLumiere"]
""", encoding="utf-8")
    data = tmp_path / "posts.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in _posts(now)), encoding="utf-8")
    imported = CliRunner().invoke(cli, ["--config", str(config), "ingest", "--from-jsonl",
                                        str(data)])
    assert imported.exit_code == 0, imported.output

    env = {k: v for k, v in os.environ.items()
           if k not in ("X_BEARER_TOKEN", "MONITOR_CONFIG", "MONITOR_DATABASE_URL")}
    env["PYTHONUNBUFFERED"] = "1"
    cmd = [sys.executable, "-m", "monitor", "--config", str(config), "run"]
    log_path = tmp_path / "service.log"
    from monitor.i18n import Lang

    yesterday = Lang("en", PARIS).day((now.astimezone(PARIS) - timedelta(days=1)).date())
    with SmtpSink(port) as sink, log_path.open("w") as log_file:
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=env,
                                cwd=tmp_path)
        try:
            _wait("the first analysis", lambda: "pair ml: analysed 6 of 6" in
                  log_path.read_text(), 30, proc)
            second = subprocess.run(cmd, capture_output=True, text=True, env=env,
                                    cwd=tmp_path, timeout=30)
            assert second.returncode == 1, second.stderr
            assert "another `monitor run`" in second.stderr
            assert f"(pid {proc.pid})" in second.stderr
            assert "Traceback" not in second.stderr

            def subjects() -> list[str]:
                return [str(m["Subject"]) for m in sink.messages]

            _wait("the alert email", lambda: any("FIRING ml" in s for s in subjects()), 60,
                  proc)
            assert not any(f"overlap on {yesterday}" in s for s in subjects())  # not yet due
            proc.send_signal(signal.SIGUSR1)
            _wait("the digest email", lambda: any(f"overlap on {yesterday}" in s
                                                  for s in subjects()), 60, proc)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    output = log_path.read_text()
    assert code == 0, output
    assert "SIGTERM received: stopping after the running job" in output
    assert "SIGUSR1 received: running every pair job, then the digest, now" in output
    assert "service stopped" in output and "Traceback" not in output
    digests = [m for m in sink.messages if f"overlap on {yesterday}" in str(m["Subject"])]
    assert len(digests) == 1
    assert "100% overlap" in str(digests[0]["Subject"])  # three retweets of three posts
    assert [p.get_content_type() for p in digests[0].iter_parts()] == ["text/plain",
                                                                       "text/html"]
    assert sum("FIRING ml" in str(m["Subject"]) for m in sink.messages) == 1
    text = digests[0].get_body(("plain",)).get_content()
    assert "Alert now: FIRING since" in text  # the digest tells the alert it saw fire

    # The jobs live in the monitor's database, with their explicit ids.
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.connect() as conn:
        ids = {row[0] for row in conn.execute(text("SELECT id FROM apscheduler_jobs"))}
    engine.dispose()
    assert ids == {"pair:ml", "digest", "outbox"}


def test_a_missed_digest_is_sent_on_restart_and_stale_jobs_go(tmp_path: Path) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from monitor.config import parse_config
    from monitor.service import _on_started
    from monitor.store import Store

    cfg = parse_config({"pairs": [{"name": "ml", "executive": ["a"], "corporate": ["b"]}]},
                       source=str(tmp_path / "monitor.toml"))
    missed = datetime.now(PARIS) - timedelta(hours=1)

    class Inert(BackgroundScheduler):
        def _process_jobs(self) -> None:  # the test looks at the jobs; nothing runs
            return None

    def scheduler_on(store: Store) -> Any:
        s = Inert(timezone=PARIS, jobstores={"default": SQLAlchemyJobStore(engine=store.engine)})
        s.start()
        return s

    with Store.open(f"sqlite:///{tmp_path / 'm.db'}") as store:
        s = scheduler_on(store)
        _on_started(s, cfg, "/etc/monitor.toml")
        s.add_job("monitor.service:run_pair_job", "interval", seconds=60, id="pair:old",
                  args=("/etc/monitor.toml", "old"))
        s.modify_job("digest", next_run_time=missed)  # as if the service was down at 08:00
        s.shutdown(wait=False)

        s = scheduler_on(store)  # a restart with the same schedule runs the missed digest
        _on_started(s, cfg, "/etc/monitor.toml")
        soon = s.get_job("digest").next_run_time - datetime.now(PARIS)
        assert timedelta(0) < soon <= timedelta(seconds=1)
        assert s.get_job("pair:old") is None
        s.modify_job("digest", next_run_time=missed - timedelta(days=1))  # too late: skipped
        _on_started(s, cfg, "/etc/monitor.toml")
        assert s.get_job("digest").next_run_time == missed - timedelta(days=1)
        later = parse_config({"pairs": [{"name": "ml", "executive": ["a"], "corporate": ["b"]}],
                              "schedule": {"digest_at": "09:30"}},
                             source=str(tmp_path / "monitor.toml"))
        _on_started(s, later, "/etc/monitor.toml")  # a new time replaces it
        nxt = s.get_job("digest").next_run_time
        assert (nxt.hour, nxt.minute) == (9, 30) and nxt > datetime.now(PARIS)
        s.shutdown(wait=False)
