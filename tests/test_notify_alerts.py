"""The alert state machine (pure, injected clock), its persistence, silences and the webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from monitor.config import AlertsConfig, MonitorConfig, parse_config
from monitor.models import Finding, Post, PostClass
from monitor.notify.alerts import (
    AlertSettings,
    AlertState,
    AlertStatus,
    NotificationKind,
    Observation,
    evaluate,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SETTINGS = AlertSettings(threshold=0.30, recover_threshold=0.24, for_evaluations=2,
                         repeat_interval=timedelta(hours=24), min_posts=5, window_days=7)


def obs(rate: float | None, posts: int = 10, silenced_until: datetime | None = None,
        reason: str = "") -> Observation:
    return Observation("ml", rate, posts, silenced_until, reason)


class Machine:
    """Feeds observations through `evaluate` with a clock the test moves."""

    def __init__(self, settings: AlertSettings = SETTINGS) -> None:
        self.state = AlertState("ml")
        self.now = T0
        self.settings = settings
        self.sent: list[tuple[NotificationKind, str]] = []

    def step(self, observation: Observation, after: timedelta = timedelta(minutes=30)
             ) -> list[NotificationKind]:
        self.now += after
        self.state, notes, _events = evaluate(self.state, observation, self.now, self.settings)
        self.sent += [(n.kind, n.key) for n in notes]
        return [n.kind for n in notes]


def test_pending_firing_repeat_resolved() -> None:
    m = Machine()
    assert m.step(obs(0.10)) == []
    assert m.state.status is AlertStatus.INACTIVE
    assert m.step(obs(0.40)) == []
    assert m.state.status is AlertStatus.PENDING
    assert m.step(obs(0.45)) == [NotificationKind.FIRING]
    assert m.state.status is AlertStatus.FIRING
    fired_at = m.now
    for _ in range(10):  # still firing, within the repeat interval: silent
        assert m.step(obs(0.50), after=timedelta(hours=2)) == []
    assert m.now - fired_at == timedelta(hours=20)
    assert m.step(obs(0.50), after=timedelta(hours=4)) == [NotificationKind.REPEAT]
    assert m.step(obs(0.50), after=timedelta(hours=1)) == []
    assert m.step(obs(0.10)) == [NotificationKind.RESOLVED]
    assert m.state.status is AlertStatus.INACTIVE
    keys = [k for _, k in m.sent]
    assert keys == ["alert:ml:1:firing", "alert:ml:1:repeat:1", "alert:ml:1:resolved"]
    assert len(set(keys)) == len(keys)


def test_hysteresis_keeps_firing_between_recover_and_threshold() -> None:
    m = Machine()
    m.step(obs(0.40))
    m.step(obs(0.40))
    assert m.state.status is AlertStatus.FIRING
    # 0.26 is below the threshold (0.30) but above the recovery threshold (0.24): still firing.
    assert m.step(obs(0.26)) == []
    assert m.state.status is AlertStatus.FIRING
    assert m.step(obs(0.31)) == []  # no second "firing" for the same episode
    assert m.step(obs(0.24)) == []  # at the recovery threshold is not below it
    assert m.step(obs(0.23)) == [NotificationKind.RESOLVED]
    # A new episode is a new transition, with its own keys.
    m.step(obs(0.40))
    assert m.step(obs(0.40)) == [NotificationKind.FIRING]
    assert m.sent[-1][1] == "alert:ml:2:firing"


def test_pending_that_clears_sends_nothing_and_quiet_weeks_do_not_count() -> None:
    m = Machine()
    m.step(obs(0.50))
    assert m.state.status is AlertStatus.PENDING
    assert m.step(obs(0.20)) == []
    assert m.state.status is AlertStatus.INACTIVE
    # Fewer than min_posts: no data, whatever the rate.
    assert m.step(obs(1.0, posts=3)) == [] and m.step(obs(1.0, posts=3)) == []
    assert m.state.status is AlertStatus.INACTIVE
    assert m.sent == []


def test_no_data_while_firing_neither_resolves_nor_repeats() -> None:
    m = Machine()
    m.step(obs(0.40))
    m.step(obs(0.40))
    assert m.step(obs(None, posts=0), after=timedelta(days=3)) == []
    assert m.state.status is AlertStatus.FIRING


def test_for_evaluations_one_fires_at_once() -> None:
    m = Machine(AlertSettings(0.3, 0.24, 1, timedelta(hours=24), 5, 7))
    assert m.step(obs(0.35)) == [NotificationKind.FIRING]


def test_from_config_defaults_recover_to_80_percent() -> None:
    s = AlertSettings.from_config(AlertsConfig(threshold=0.5, repeat_interval="12h"))
    assert s.recover_threshold == pytest.approx(0.4)
    assert s.repeat_interval == timedelta(hours=12)


def test_silence_mutes_then_announces_when_it_ends() -> None:
    m = Machine()
    until = T0 + timedelta(days=2)
    m.step(obs(0.40, silenced_until=until, reason="joint launch"))
    assert m.step(obs(0.40, silenced_until=until)) == []
    assert m.state.status is AlertStatus.FIRING and not m.state.notified
    assert m.step(obs(0.50, silenced_until=until), after=timedelta(days=1)) == []
    # The silence is over and the condition still holds: announced once, late.
    assert m.step(obs(0.50), after=timedelta(days=1)) == [NotificationKind.FIRING]
    assert m.step(obs(0.50)) == []


def test_silenced_episode_that_resolves_is_never_announced() -> None:
    m = Machine()
    until = T0 + timedelta(days=5)
    m.step(obs(0.40, silenced_until=until))
    m.step(obs(0.40, silenced_until=until))
    assert m.step(obs(0.10, silenced_until=until)) == []
    assert m.step(obs(0.10)) == []
    assert m.sent == [] and m.state.status is AlertStatus.INACTIVE


# -- persistence: the state survives a restart, and nothing is sent twice ----------------------

def _post(pid: int, account: str, when: datetime) -> Post:
    return Post(post_id=str(pid), account=account, created_at=when, text=f"post {pid}")


def _config(tmp_path: Path, url: str | None = None) -> MonitorConfig:
    return parse_config({
        "database": {"url": url or f"sqlite:///{tmp_path / 'm.db'}"},
        "model": {"name": "use-multilingual"},
        "email": {"recipients": ["comms@example.com"]},
        "ui": {"language": "en"},
        "alerts": {"threshold": 0.3, "for_evaluations": 2, "min_posts": 5},
        "pairs": [{"name": "ml", "executive": ["claire_ml"], "corporate": ["MaisonLumiere"]}],
    }, source=str(tmp_path / "monitor.toml"))


def _seed(store: object, cfg: MonitorConfig, overlapping: int, total: int,
          end: datetime) -> None:
    """Store findings directly: `overlapping` of `total` executive posts in the last days."""
    from monitor.embed import model_id_for

    posts = [_post(1000 + i, "claire_ml", end - timedelta(hours=6 * (i + 1)))
             for i in range(total)]
    store.import_posts(posts, source="jsonl")  # type: ignore[attr-defined]
    stored = store.posts(["claire_ml"])  # type: ignore[attr-defined]
    items = []
    for i, sp in enumerate(stored):
        cls = PostClass.OVERLAP if i < overlapping else PostClass.COMPLEMENTARY
        items.append((sp.pk, sp.text_hash, "k", Finding(
            post_id=sp.post.post_id, account="claire_ml", created_at=sp.post.created_at,
            post_class=cls, reason="test")))
    store.save_findings("ml", model_id_for(cfg.model.name), items)  # type: ignore[attr-defined]


def test_alert_state_persists_across_restart_without_duplicates(tmp_path: Path,
                                                                db_url: str) -> None:
    from monitor.app.alerting import evaluate_alert, load_alert_state
    from monitor.store import Store

    cfg = _config(tmp_path, db_url)
    pair = cfg.pairs[0]
    now = T0
    with Store.open(cfg.database_url()) as store:
        _seed(store, cfg, overlapping=5, total=10, end=now)
        assert evaluate_alert(store, cfg, pair, now, webhook=True) == []
        notes = evaluate_alert(store, cfg, pair, now + timedelta(minutes=30), webhook=True)
        assert [n.kind for n in notes] == [NotificationKind.FIRING]
    # "Restart": a new Store on the same database, and the same evaluation replayed.
    with Store.open(cfg.database_url()) as store:
        state = load_alert_state(store, "ml")
        assert state.status is AlertStatus.FIRING and state.notified and state.sequence == 1
        assert evaluate_alert(store, cfg, pair, now + timedelta(minutes=30), webhook=True) == []
        assert evaluate_alert(store, cfg, pair, now + timedelta(hours=2), webhook=True) == []
        queued = store.pending_messages(now + timedelta(days=1))
        assert sorted(m.key for m in queued) == ["alert:ml:1:firing:email",
                                                 "alert:ml:1:firing:webhook"]
        email = next(m for m in queued if m.channel == "email")
        assert email.recipients == ("comms@example.com",)
        assert "FIRING ml" in email.subject and "50%" in email.subject
        kinds = [e.kind for e in store.alert_events("ml")]
        assert kinds == ["pending", "firing"]


def test_silence_command_mutes_the_pair(tmp_path: Path) -> None:
    from monitor.app.alerting import evaluate_alert
    from monitor.cli import cli
    from monitor.store import Store

    cfg = _config(tmp_path)
    config_file = tmp_path / "monitor.toml"
    config_file.write_text(f'[database]\nurl = "{cfg.database.url}"\n[model]\n'
                           'name = "use-multilingual"\n[[pairs]]\nname = "ml"\n'
                           'executive = ["claire_ml"]\ncorporate = ["MaisonLumiere"]\n')
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config_file), "silence", "--pair", "ml",
                                 "--until", "2099-12-01", "--reason", "joint launch",
                                 "--author", "Léa (comms)"])
    assert result.exit_code == 0, result.output
    assert "until 1 Dec 2099 00:00 (Europe/Paris), by Léa (comms)" in result.output
    listed = runner.invoke(cli, ["--config", str(config_file), "silence", "--list"])
    # Entered and listed in the one time zone (Paris midnight), with its author and start.
    assert "#1 ml from " in listed.output
    assert "until 1 Dec 2099 00:00 (Europe/Paris) by Léa (comms): joint launch" in listed.output
    later = runner.invoke(cli, ["--config", str(config_file), "silence", "--pair", "ml",
                                "--start", "2099-12-24", "--until", "2099-12-26"])
    assert later.exit_code == 0, later.output
    import getpass

    assert f"by {getpass.getuser()} (#2)" in later.output  # the OS user by default
    listed = runner.invoke(cli, ["--config", str(config_file), "silence", "--list"])
    assert "#2 ml from 24 Dec 2099 00:00 until 26 Dec 2099 00:00" in listed.output
    backwards = runner.invoke(cli, ["--config", str(config_file), "silence", "--pair", "ml",
                                    "--start", "2099-12-27", "--until", "2099-12-26"])
    assert backwards.exit_code == 2 and "is not before --until" in backwards.output
    bad = runner.invoke(cli, ["--config", str(config_file), "silence", "--pair", "nope",
                              "--until", "7d"])
    assert bad.exit_code == 2 and "no pair named 'nope'" in bad.output
    past = runner.invoke(cli, ["--config", str(config_file), "silence", "--pair", "ml",
                               "--until", "2001-01-01"])
    assert past.exit_code == 2 and "in the past" in past.output

    now = datetime.now(UTC)
    with Store.open(cfg.database_url()) as store:
        _seed(store, cfg, overlapping=8, total=10, end=now)
        for minutes in (0, 30, 60):
            assert evaluate_alert(store, cfg, cfg.pairs[0], now + timedelta(minutes=minutes),
                                  webhook=False) == []
        assert store.pending_messages(now + timedelta(days=1)) == []
        events = store.alert_events("ml")
        assert events[-1].kind == "firing" and "joint launch" in events[-1].detail
        sid = store.silences()[-1].id
    lifted = runner.invoke(cli, ["--config", str(config_file), "silence", "--remove", str(sid)])
    assert lifted.exit_code == 0 and f"Lifted silence #{sid}" in lifted.output


# -- the webhook, on a real HTTP server on loopback ------------------------------------------

class _Hook(BaseHTTPRequestHandler):
    """Records the JSON bodies it accepts; answers `status` (each test gets a subclass)."""

    bodies: ClassVar[list[dict[str, object]]] = []
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        if type(self).status == 200:
            type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook_server() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"bodies": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/T000/SECRET-TOKEN", handler
    server.shutdown()
    server.server_close()


def test_webhook_retries_until_the_endpoint_accepts(db_url: str,
                                                    hook_server: tuple[str, type[_Hook]]) -> None:
    from pydantic import SecretStr

    from monitor.models import OutboxMessage
    from monitor.notify.outbox import deliver_pending
    from monitor.notify.webhook import WebhookSender, webhook_payload
    from monitor.store import Store

    url, handler = hook_server
    sender = WebhookSender(SecretStr(url), timeout_s=5)
    transports = {"webhook": lambda e: sender.send(e.payload)}
    clock = [T0]
    with Store.open(db_url) as store:
        msg = OutboxMessage("alert:ml:1:firing:webhook", "webhook", "s",
                            webhook_payload("Firing: <ml> 50%", title="[monitor] FIRING ml",
                                            severity="warning"))
        assert store.enqueue([msg], T0) == [True]
        assert store.enqueue([msg], T0) == [False]  # same key: queued once
        handler.status = 503
        report = deliver_pending(store, transports, lambda: clock[0])
        assert report.failed == ("alert:ml:1:firing:webhook",)
        status = store.outbox_summary()
        assert status.pending == 1 and "HTTP 503" in (status.last_error or "")
        assert "SECRET-TOKEN" not in repr(status)  # the URL is a secret
        # Backoff: not retried before its time, then delivered exactly once.
        assert deliver_pending(store, transports, lambda: clock[0]).sent == ()
        handler.status = 200
        clock[0] = T0 + timedelta(minutes=2)
        assert deliver_pending(store, transports, lambda: clock[0]).sent == (msg.key,)
        assert deliver_pending(store, transports, lambda: clock[0] + timedelta(days=1)).sent == ()
        # Apprise's generic JSON form (a plain http:// URL becomes json://).
        [body] = handler.bodies
        assert (body["title"], body["type"]) == ("[monitor] FIRING ml", "warning")
        assert "Firing: <ml> 50%" in str(body["message"])
        status = store.outbox_summary()
        assert status.pending == 0 and status.sent == 1
