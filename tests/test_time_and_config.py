"""One bounded parser for durations and moments, and a configuration that refuses what cannot
work (issue 11, defects 4, 5 and 14): overflowing durations, impossible dates, deep TOML, a
broken .env, in-memory or foreign databases, unknown models and bad URLs are clean errors with
exit 2, at once; misspelt keys and `threshold = 30` get a hint."""

from __future__ import annotations

import contextlib
import http.client
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config
from monitor.errors import ConfigError, MonitorError, UsageError
from monitor.timeparse import AT, SINCE, UNTIL, future, parse_day, parse_duration, parse_moment
from tests.harness.net import serving

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


# -- the parser --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["1e400s", "99999999999d", "infm", "nanh", "inf", "-5d", "0s",
                                  "1_000s", "²d", "30", "30x", "", " ", "1" * 5000 + "d",
                                  "36501d", "5220w"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_duration(text, what="--window")
    assert "--window" in str(err.value)


def test_durations_in_range() -> None:
    assert parse_duration("90s", what="x") == timedelta(seconds=90)
    assert parse_duration(" 2W ", what="x") == timedelta(weeks=2)
    assert parse_duration("1.5h", what="x") == timedelta(minutes=90)
    assert parse_duration("36500d", what="x") == timedelta(days=36500)


@pytest.mark.parametrize(("text", "expected"), [
    ("30d", NOW - timedelta(days=30)),
    ("2026-09-01", datetime(2026, 9, 1, tzinfo=UTC)),
    ("2026-09-01T08:00", datetime(2026, 9, 1, 8, tzinfo=UTC)),
    ("2026-09-01T08:00:00+02:00", datetime(2026, 9, 1, 6, tzinfo=UTC)),
    ("2026-09-01T08:00:00Z", datetime(2026, 9, 1, 8, tzinfo=UTC)),
])
def test_moments(text: str, expected: datetime) -> None:
    assert parse_moment(text, NOW, what="--since", syntax=SINCE) == expected


@pytest.mark.parametrize("text", ["1e400d", "99999999999d", "0001-01-01", "9999-12-31",
                                  "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                  "yesterday", "2026-02-30", "2026-13-01", "x" * 500, "",
                                  "1899-12-31"])
def test_moments_out_of_range_or_wrong_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_moment(text, NOW, what="--since", syntax=SINCE)


def test_moment_errors_say_what_the_option_accepts() -> None:
    with pytest.raises(UsageError) as until:
        parse_moment("yesterday", NOW, what="--until", syntax=UNTIL)
    assert str(until.value).startswith("--until 'yesterday' is not understood: --until takes "
                                       "a date (2026-09-01, midnight UTC), a date and time")
    assert "or a duration back from now (7d)" in str(until.value)
    with pytest.raises(UsageError) as at:
        parse_moment("2026-02-30", NOW, what="--at", syntax=AT)
    assert "--at '2026-02-30' is not a real date or time (day is out of range for month)" in \
        str(at.value) and "--at takes a date" in str(at.value)
    with pytest.raises(UsageError) as duration:
        parse_moment("1e400d", NOW, what="--since", syntax=SINCE)
    assert "is not a duration" in str(duration.value)
    paris = future(__import__("zoneinfo").ZoneInfo("Europe/Paris"), "Europe/Paris")
    with pytest.raises(UsageError) as silence:
        parse_moment("99999999999d", NOW, what="--until", syntax=paris)
    assert "too long: at most 36500d" in str(silence.value)
    assert parse_moment("2026-12-24", NOW, what="--until", syntax=paris) == datetime(
        2026, 12, 23, 23, tzinfo=UTC)


def test_days() -> None:
    assert parse_day("2026-11-23", what="--date") == date(2026, 11, 23)
    for bad in ("0001-01-01", "23/11/2026", "2026-02-30", "9999-01-01"):
        with pytest.raises(UsageError, match="--date"):
            parse_day(bad, what="--date")


# -- the command line ----------------------------------------------------------------------------

@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n[[pairs]]\nname = "p"\n'
                    'executive = ["ceo"]\ncorporate = ["brand"]\n', encoding="utf-8")
    return path


def invoke(config: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(config), *args])


@pytest.mark.parametrize(("args", "expected"), [
    (["report", "--since", "1e400d"], "--since '1e400d' is not a duration"),
    (["report", "--until", "yesterday"], "--until takes a date"),
    (["report", "--since", "2026-11-01", "--until", "2026-10-01"], "is not before --until"),
    (["check", "draft", "--at", "1e400d"], "--at '1e400d' is not a duration"),
    (["check", "draft", "--at", "2026-02-30"], "not a real date"),
    (["silence", "--pair", "p", "--until", "99999999999d"], "too long"),
    (["silence", "--pair", "p", "--until", "9999-12-31"], "out of range"),
    (["digest", "--date", "0001-01-01"], "out of range"),
    (["digest", "-o", "d.pdf"], "-o d.pdf: the digest is written as .eml"),
])
def test_bad_options_exit_2_with_one_line(config: Path, args: list[str], expected: str) -> None:
    result = invoke(config, *args)
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output


def test_verbose_does_not_flood_stderr_with_alembic_plugins(config: Path) -> None:
    import logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def status() -> Any:
        # As in a fresh process: no handler yet, so the CLI's logging set-up (a handler on
        # stderr at the -v level) is the one that decides what reaches stderr.
        root.handlers.clear()
        try:
            return CliRunner().invoke(cli, ["-v", "--config", str(config), "status"],
                                      catch_exceptions=False)
        finally:
            for handler in root.handlers:
                handler.close()
            root.handlers[:] = saved[0]
            root.setLevel(saved[1])

    first, second = status(), status()
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr
    for result in (first, second):
        assert "setup plugin" not in result.stderr and "Context impl" not in result.stderr
    assert "Running upgrade" in first.stderr  # what changed the database is still said
    assert second.stderr.strip() == ""  # nothing changed: nothing to say


# -- the configuration -----------------------------------------------------------------------

def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    return path


PAIR = '[[pairs]]\nname = "p"\nexecutive = ["ceo"]\ncorporate = ["brand"]\n'


@pytest.mark.parametrize(("toml", "expected"), [
    ('[schedule]\ningest_every = "1e400s"\n', "schedule.ingest_every: '1e400s' is not a duration"),
    ('[schedule]\ningest_every = "99999999999d"\n', "is too long: at most 30d"),
    ('[schedule]\ningest_every = "infm"\n', "'infm' is not a duration"),
    ('[alerts]\nrepeat_interval = "nanh"\n', "alerts.repeat_interval"),
    ('[database]\nurl = "sqlite:///"\n', "in-memory SQLite database"),
    ('[database]\nurl = "sqlite://"\n', "in-memory SQLite database"),
    ('[database]\nurl = "sqlite:///:memory:"\n', "in-memory SQLite database"),
    ('[database]\nurl = "mysql://u@h/db"\n', "is not a SQLite or PostgreSQL URL"),
    ('[database]\nurl = "not a url"\n', "is not a SQLite or PostgreSQL URL"),
    ('[x]\napi_base_url = "not a url"\n', "x.api_base_url: 'not a url' is not an http(s) URL"),
    ('[x]\napi_base_url = "ftp://x.example"\n', "is not an http(s) URL"),
    ('[x]\napi_base_url = "http://127.0.0.1:99999"\n', "is not an http(s) URL"),
    ('[x]\ntimeout_s = inf\n', "x.timeout_s: Input should be a finite number"),
    ('[x]\nmax_rate_limit_wait_s = nan\n', "finite number"),
    ('[analysis]\ndrift_baseline_days = 99999999999999999999\n', "analysis.drift_baseline_days"),
    ('[alerts]\nthreshold = 30\n', "write 0.30 for 30 %"),
    ('[alerts]\ntreshold = 0.3\n', "alerts.treshold: unknown setting; did you mean `threshold`?"),
    ('[shedule]\ntimezone = "UTC"\n', "shedule: unknown setting; did you mean `schedule`?"),
    ('[[pairs]]\nname = "p"\nexecutive = ["ceo"]\ncorporate = ["brand"]\nrecipient = []\n',
     "did you mean `recipients`?"),
    ('[[pairs]]\nname = "p"\nexecutive = ["cé²"]\ncorporate = ["brand"]\n',
     "is not an X username"),
    ('[email]\nrecipients = ["a@b.example\\nBcc: x@y.example"]\n', "is not an email address"),
    ("a = " + "[" * 20000 + "]" * 20000 + "\n", "nested too deeply"),
    ("x = {" * 3000 + "}" * 3000 + "\n", "invalid TOML"),
])
def test_bad_configuration_exits_2_with_the_key(tmp_path: Path, toml: str,
                                                expected: str) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value) and str(path) in str(err.value), str(err.value)[:400]
    started = time.monotonic()
    result = invoke(path, "status")
    assert result.exit_code == 2 and expected in result.output
    assert time.monotonic() - started < 10  # no retries first


def test_dotenv_with_invalid_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, PAIR)
    (tmp_path / ".env").write_bytes(b"MONITOR_X=1\nX_BEARER_TOKEN=\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"\.env: line 2: the \.env file is not valid UTF-8"):
        load_config(path)


def test_database_url_from_the_environment_is_checked_too(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, PAIR)
    for url, expected in [("sqlite:///", "in-memory"), ("postgresql+nodriver://u@h/db",
                                                         "NoSuchModuleError"),
                          ("mysql://u@h/db", "not a SQLite or PostgreSQL URL")]:
        monkeypatch.setenv("MONITOR_DATABASE_URL", url)
        result = invoke(path, "ingest", "--from-jsonl", str(path))
        assert result.exit_code == 2, (url, result.output)
        assert expected in result.output and "MONITOR_DATABASE_URL" in result.output


def test_unknown_model_is_exit_2_before_anything_loads(tmp_path: Path) -> None:
    path = write(tmp_path, '[model]\nname = "no-such/model-anywhere"\n' + PAIR +
                 f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n')
    started = time.monotonic()
    result = invoke(path, "analyse")
    assert result.exit_code == 2, result.output
    assert "is not a model this machine has" in result.output
    assert time.monotonic() - started < 10
    run = invoke(path, "run")
    assert run.exit_code == 2 and "is not a model this machine has" in run.output


def test_bad_x_api_url_from_the_environment_is_exit_2(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, PAIR + f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n')
    monkeypatch.setenv("MONITOR_X_API_BASE_URL", "not a url")
    monkeypatch.setenv("X_BEARER_TOKEN", "t")
    started = time.monotonic()
    result = invoke(path, "ingest")
    assert result.exit_code == 2, result.output
    assert "MONITOR_X_API_BASE_URL 'not a url' is not an http(s) URL" in result.output
    assert time.monotonic() - started < 10  # not 31 s of retries with backoff


# -- the dashboard -------------------------------------------------------------------------------

@pytest.fixture
def dashboard(config: Path) -> Iterator[int]:
    from monitor.store import Store
    from monitor.web.app import Dashboard, create_app

    cfg = load_config(config)
    with Store.open(cfg.database_url()) as store:
        app = create_app(Dashboard(cfg, store))
        with serving(app) as port:
            yield port


@pytest.mark.parametrize("query", ["since=1e400d", "since=99999999999d", "since=infm",
                                   "until=0001-01-01", "since=2026-02-30",
                                   "since=2026-11-01&until=2026-10-01"])
def test_dashboard_bad_period_is_400_not_500(dashboard: int, query: str) -> None:
    for path in ("/", "/pairs/p", "/pairs/p/report.csv", "/pairs/p/flagged"):
        conn = http.client.HTTPConnection("127.0.0.1", dashboard, timeout=30)
        try:
            conn.request("GET", f"{path}?{query}")
            reply = conn.getresponse()
            body = reply.read().decode()
        finally:
            conn.close()
        assert reply.status == 400, (path, query, reply.status)
        assert "since" in body or "until" in body


def test_every_parser_error_is_a_monitor_error() -> None:
    """The property the fuzz test checks at scale, on a few classics: nothing but a
    MonitorError (OverflowError and ValueError used to escape)."""
    for text in ("1e308d", "1e309d", "9" * 400 + "s", "0x10d", "٣d", "2026-W01", "--5d"):
        with contextlib.suppress(MonitorError):
            parse_moment(text, NOW, what="--since", syntax=SINCE)
