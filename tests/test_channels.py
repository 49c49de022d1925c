"""Slack, Microsoft Teams and generic webhooks through Apprise, each received by a loopback
server: the real plugins, the real URL forms, the payloads the services would get. The URLs
(secrets) never reach the outbox, the database or an error message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from monitor.errors import DeliveryError
from monitor.notify.webhook import WebhookSender, webhook_payload
from tests.harness.receivers import CERT, ConnectProxy, Receiver

T0 = datetime(2026, 11, 11, 19, 5, tzinfo=UTC)
BODY = ("⚠ 1 publication sensible : politique — @claire_ml : « LFI et LR votent n'importe "
        "quoi… » <b>pas du HTML</b>")
PAYLOAD = webhook_payload(BODY, title="1 publication sensible : politique · [monitor] ml",
                          severity="critical")


@pytest.fixture
def trust_test_cert(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """requests (under Apprise) trusts the test certificate, and uses no proxy unless told."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(CERT))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY",
                 "no_proxy", "ALL_PROXY", "all_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    yield


def test_slack_through_its_real_url(trust_test_cert: None,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Apprise's Slack plugin posts to https://hooks.slack.com/services/...: a loopback proxy
    carries the request to a local HTTPS receiver, which sees Slack's payload."""
    url = "https://hooks.slack.com/services/T0000TEST/B0000TEST/SecretSlackToken123"
    with Receiver(tls=True) as slack, ConnectProxy(slack.port) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        WebhookSender(SecretStr(url), channel="slack", timeout_s=5).send(PAYLOAD)
    assert proxy.asked == ["hooks.slack.com:443"]
    [got] = slack.received
    assert got.path == "/services/T0000TEST/B0000TEST/SecretSlackToken123"
    text = json.dumps(got.body, ensure_ascii=False)
    assert "1 publication sensible" in text and "LFI et LR" in text
    assert "attachments" in got.body or "blocks" in got.body or "text" in got.body


def test_teams_workflow_on_loopback(trust_test_cert: None) -> None:
    """A Teams workflow URL (Power Automate) points the Workflows plugin at any host: here
    127.0.0.1 over HTTPS; Teams gets an Adaptive Card."""
    with Receiver(tls=True) as teams:
        url = f"workflows://127.0.0.1:{teams.port}/wf0123456789/SigSecret987"
        WebhookSender(SecretStr(url), channel="teams", timeout_s=5).send(PAYLOAD)
    [got] = teams.received
    assert got.path.startswith("/workflows/wf0123456789/triggers/manual/paths/invoke")
    card = json.dumps(got.body, ensure_ascii=False)
    assert "AdaptiveCard" in card and "1 publication sensible" in card and "LFI et LR" in card


def test_generic_webhook_json(trust_test_cert: None) -> None:
    """A plain URL gets Apprise's generic JSON form: title, message and a type from the
    severity (critical -> failure)."""
    with Receiver() as hook:
        WebhookSender(SecretStr(f"http://127.0.0.1:{hook.port}/monitor/HookSecret42"),
                      timeout_s=5).send(PAYLOAD)
        WebhookSender(SecretStr(f"json://127.0.0.1:{hook.port}/again"), timeout_s=5).send(
            webhook_payload("resolved", title="t", severity="info"))
    first, second = hook.received
    assert first.path == "/monitor/HookSecret42"
    assert first.body["title"].startswith("1 publication sensible")
    assert "LFI et LR" in first.body["message"] and first.body["type"] == "failure"
    assert second.path == "/again" and second.body["type"] == "success"


def test_failures_name_the_variable_never_the_url(trust_test_cert: None) -> None:
    with Receiver(status=404) as hook:
        url = f"json://127.0.0.1:{hook.port}/x/HookSecret42"
        with pytest.raises(DeliveryError) as refused:
            WebhookSender(SecretStr(url), timeout_s=5).send(PAYLOAD)
    assert "MONITOR_WEBHOOK_URL" in str(refused.value) and "HTTP 404" in str(refused.value)
    with pytest.raises(DeliveryError) as down:  # nothing listens there any more
        WebhookSender(SecretStr(url), channel="teams", timeout_s=2).send(PAYLOAD)
    assert "MONITOR_TEAMS_URL" in str(down.value)
    with pytest.raises(DeliveryError) as unset:
        WebhookSender(None, channel="slack").send(PAYLOAD)
    assert "MONITOR_SLACK_URL is not set" in str(unset.value)
    for err in (refused.value, down.value, unset.value):
        assert "HookSecret42" not in str(err) and "127.0.0.1" not in str(err)


def test_alert_reaches_every_channel_and_no_secret_is_stored(
        tmp_path: Path, trust_test_cert: None, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A risk alert queued for the three channels and delivered by the service's transports:
    each receiver gets it; the URLs are nowhere in the database or the logs."""
    import logging

    from monitor.app.alerting import evaluate_alert
    from monitor.config import load_secrets, parse_config
    from monitor.notify.outbox import chat_channels, deliver_pending, transports_for
    from monitor.store import Store
    from tests.harness.seeds import seed_day

    caplog.set_level(logging.DEBUG)
    with Receiver() as hook, Receiver(tls=True) as teams, Receiver(tls=True) as slack, \
            ConnectProxy(slack.port) as proxy:
        secrets = {"MONITOR_WEBHOOK_URL": f"http://127.0.0.1:{hook.port}/h/HookSecret42",
                   "MONITOR_TEAMS_URL": f"workflows://127.0.0.1:{teams.port}/wf1/TeamsSecret7",
                   "MONITOR_SLACK_URL": "https://hooks.slack.com/services/T1/B1/SlackSecret9"}
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # Teams and the webhook go direct
        cfg = parse_config({"database": {"url": f"sqlite:///{tmp_path / 'm.db'}"},
                            "model": {"name": "use-multilingual"},
                            "pairs": [{"name": "ml", "executive": ["claire_ml"],
                                       "corporate": ["MaisonLumiere"]}]},
                           source=str(tmp_path / "monitor.toml"))
        keys = load_secrets()
        with Store.open(cfg.database_url()) as store:
            seed_day(store, cfg)
            evaluate_alert(store, cfg, cfg.pairs[0], T0, channels=chat_channels(keys))
            report = deliver_pending(store, transports_for(cfg, keys), lambda: T0)
        assert report.failed == (), report.errors
    assert sorted(k.rsplit(":", 1)[1] for k in report.sent) == ["slack", "teams", "webhook"]
    for receiver in (hook, teams, slack):
        [got] = receiver.received
        assert "publication sensible" in json.dumps(got.body, ensure_ascii=False)
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("m.db*"))
    # Apprise logs target URLs at debug level: its logger never reaches the monitor's log
    # handlers (on the root logger); pytest listens to it directly, so it is left out here.
    assert logging.getLogger("apprise").propagate is False
    logged = "\n".join(r.getMessage() for r in caplog.records
                       if not r.name.startswith("apprise"))
    assert "risk post(s) announced" in logged
    for secret in ("HookSecret42", "TeamsSecret7", "SlackSecret9"):
        assert secret.encode() not in stored and secret not in logged
