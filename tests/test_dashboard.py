"""The dashboard (`monitor serve`): its pages in headless Chromium, and its token.

The pages are served by uvicorn in a thread on 127.0.0.1 (no token: a loopback binding); the
token is tested on a real `monitor serve --host 0.0.0.0` process, reached through 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.chromium import (
    Chromium,
    assert_hostile_text_is_inert,
    chart_shapes,
    only_local,
)
from tests.harness.cli import run_cli
from tests.harness.net import free_port, request, serving
from tests.harness.sample import HOSTILE, SampleStore, copy_store, record_alerts

PAIR = "maison-lumiere"
PERIOD = "since=2026-08-01&until=2026-12-01"
TOKEN = "test-dashboard-token-4f9c2b7e1a"


# -- a dashboard in a thread ---------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, marked_folder: Path) -> SampleStore:
    """The module's copy of the marked sample, with two firing episodes in its alert history."""
    copy = copy_store(marked_folder, tmp_path_factory.mktemp("dashboard"))
    record_alerts(copy.config)
    return copy


@pytest.fixture(scope="module")
def dashboard(sample: SampleStore, use_encoder: object) -> Iterator[int]:
    """The dashboard of the sample store on 127.0.0.1 (loopback: no token); yields its port."""
    from monitor.config import load_config
    from monitor.store import Store
    from monitor.web.app import Dashboard, create_app

    cfg = load_config(sample.config)
    with Store.open(cfg.database_url()) as store:
        app = create_app(Dashboard(cfg, store, encoder_factory=lambda: use_encoder))
        with serving(app) as port:
            yield port


def stored_count(config: Path, post_class: str) -> int:
    """How many findings of that class the store holds for the pair (what a page must list)."""
    from monitor.config import load_config
    from monitor.store import Store

    cfg = load_config(config)
    with Store.open(cfg.database_url()) as store:
        return sum(f.finding.post_class.value == post_class
                   for f in store.findings(PAIR, "use-multilingual-v3"))


def open_clean(browser: Chromium, url: str, screenshot: str) -> None:
    """Load a page; it must log no error and reach nothing but 127.0.0.1."""
    browser.open(url)
    assert browser.console_errors() == [], url
    assert only_local(browser.requests()) == [], url
    assert browser.eval("document.scripts.length") == 0
    browser.screenshot(screenshot)


def test_pair_page_shows_the_report_alerts_and_check(chromium: Chromium,
                                                    dashboard: int) -> None:
    base = f"http://127.0.0.1:{dashboard}"
    open_clean(chromium, f"{base}/pairs/{PAIR}?{PERIOD}", "dashboard-pair.png")
    for chart_id in ("chart-weekly", "chart-mix", "chart-similarity"):
        shape = chart_shapes(chromium, chart_id)
        assert shape["tag"] == "svg" and shape["shapes"] > 20 and shape["width"] > 300
    assert_hostile_text_is_inert(chromium)
    # The alert history: its transitions, its firing periods, and their band on the timeline.
    events = chromium.eval("[...document.querySelectorAll('#alert-events tr')].length")
    assert events == 6  # header + 5 transitions
    periods = chromium.eval("[...document.querySelectorAll('#alert-periods tr')]"
                            ".map(r => r.textContent)")
    assert len(periods) == 3 and "still firing" in periods[2]
    # The firing periods are drawn as dark red bands along the top of the weekly chart.
    assert chromium.eval("document.querySelectorAll('#chart-weekly rect.firing').length") >= 2
    assert chromium.eval("document.querySelector('form#check').method") == "post"


def test_other_pages_load_clean(chromium: Chromium, dashboard: int,
                                sample: SampleStore) -> None:
    base = f"http://127.0.0.1:{dashboard}"
    open_clean(chromium, f"{base}/?since=2026-08-01", "dashboard-index.png")
    assert PAIR in chromium.eval("document.getElementById('pairs').textContent")
    open_clean(chromium, f"{base}/pairs/{PAIR}/flagged?{PERIOD}&class=overlap",
               "dashboard-flagged.png")
    assert_hostile_text_is_inert(chromium)
    rows = chromium.eval("document.querySelectorAll('#flagged-posts tr').length")
    assert rows == 1 + stored_count(sample.config, "overlap")  # the header, every overlap
    assert HOSTILE[:20] in chromium.eval("document.getElementById('flagged-posts').textContent")
    open_clean(chromium, f"{base}/pairs/{PAIR}/check", "dashboard-check.png")
    open_clean(chromium, f"{base}/login", "dashboard-login.png")
    chromium.open(f"{base}/pairs/no-such-pair")
    assert "no pair named 'no-such-pair'" in chromium.eval("document.body.textContent")


def test_check_a_hostile_draft_in_the_browser(chromium: Chromium,
                                              dashboard: int) -> None:
    chromium.open(f"http://127.0.0.1:{dashboard}/pairs/{PAIR}/check")
    chromium.submit("form#check", {"text": HOSTILE, "at": "2026-09-29T12:00"})
    assert chromium.console_errors() == []
    assert only_local(chromium.requests()) == []
    result = chromium.eval("document.getElementById('check-result').textContent")
    assert "overlap" in result and "@MaisonLumiereFR" in result
    assert chromium.eval("document.getElementById('draft').value") == HOSTILE
    assert chromium.eval("typeof window.__pwned") == "undefined"
    assert chromium.eval("document.querySelectorAll('img').length") == 0
    chromium.screenshot("dashboard-check-result.png")


def test_headers_forms_and_downloads(dashboard: int) -> None:
    page = request(dashboard, f"/pairs/{PAIR}?{PERIOD}")
    assert page.status == 200
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["referrer-policy"] == "same-origin"
    assert "<script>window.__pwned" not in page.body
    # A page elsewhere cannot use a DNS name rebound to 127.0.0.1, nor post the check form.
    assert request(dashboard, "/", headers={"Host": "evil.example:80"}).status == 400
    cross = request(dashboard, f"/pairs/{PAIR}/check", method="POST",
                    headers={"Origin": "http://evil.example"}, form={"text": "hello"})
    assert cross.status == 403
    empty = request(dashboard, f"/pairs/{PAIR}/check", method="POST", form={"text": " "})
    assert empty.status == 400 and "the draft is empty" in empty.body
    assert request(dashboard, "/?since=yesterday").status == 400
    data = request(dashboard, f"/pairs/{PAIR}/report.json?{PERIOD}")
    assert data.status == 200 and "attachment" in data.headers["content-disposition"]
    report = json.loads(data.body)
    assert [p["sequence"] for p in report["alert_periods"]] == [1, 2]
    assert report["alert_periods"][1]["end"] is None
    assert any(w["at_or_above_alert_threshold"] for w in report["weekly"])
    login = request(dashboard, "/login", method="POST",
                    form={"token": "x", "next": "https://evil.example/"})
    assert login.status == 303 and login.headers["location"] == "/"  # no open redirect


# -- the token, on a real process ------------------------------------------------------------

def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **extra}
    for name in ("MONITOR_CONFIG", "MONITOR_DASHBOARD_TOKEN"):
        env.pop(name, None)
    env.update(extra)
    return env


def test_refuses_a_public_address_without_token(sample: SampleStore) -> None:
    result = run_cli("--config", str(sample.config), "serve", "--host", "0.0.0.0", "--port",
                     str(free_port()), env={"MONITOR_DASHBOARD_TOKEN": None})
    assert result.exit_code == 2, result.stderr
    assert "MONITOR_DASHBOARD_TOKEN" in result.stderr and "127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_public_address_requires_the_token(sample: SampleStore, tmp_path: Path) -> None:
    port = free_port()
    out, log = tmp_path / "serve.out", tmp_path / "serve.log"  # uvicorn logs to both
    with out.open("w") as stdout, log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "monitor", "--config",
             str(sample.config), "serve", "--host", "0.0.0.0", "--port", str(port)],
            env=_env(MONITOR_DASHBOARD_TOKEN=TOKEN), stdout=stdout, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while "Dashboard on" not in out.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.05)
        banner = out.read_text()
        assert f":{port}/" in banner and "token required" in banner
        path = f"/pairs/{PAIR}?{PERIOD}"
        bodies = []
        for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"},
                        {"Authorization": f"Basic {TOKEN}"}, {"Cookie": "monitor_session=x.1.y"}):
            reply = request(port, path, headers=headers)
            assert reply.status == 401, headers
            assert reply.headers["www-authenticate"].startswith("Bearer")
            assert "/login?next=/pairs/maison-lumiere" in reply.body  # where to sign in
            bodies.append(reply.body)
        assert request(port, f"/pairs/{PAIR}/check", method="POST",
                       form={"text": "hello"}).status == 401
        assert request(port, f"/pairs/{PAIR}/report.csv").status == 401
        bearer = request(port, path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status == 200 and "chart-weekly" in bearer.body
        bodies.append(bearer.body)

        assert request(port, "/login").status == 200
        wrong = request(port, "/login", method="POST", form={"token": "nope", "next": path})
        assert wrong.status == 401 and "set-cookie" not in wrong.headers
        login = request(port, "/login", method="POST", form={"token": TOKEN, "next": path})
        assert login.status == 303 and login.headers["location"] == path
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
        session = cookie.split(";")[0]
        with_cookie = request(port, path, headers={"Cookie": session})
        assert with_cookie.status == 200
        tampered = session[:-2] + ("00" if not session.endswith("00") else "11")
        assert request(port, path, headers={"Cookie": tampered}).status == 401
        bodies += [wrong.body, with_cookie.body]
        assert all(TOKEN not in b for b in bodies)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = out.read_text() + log.read_text()
    assert TOKEN not in text
    assert re.search(r"GET /pairs/maison-lumiere\?.* 200", text), [
        line for line in text.splitlines() if not line.startswith("import time")]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in text.splitlines()
                if line.startswith("import time:")}
    assert "starlette" in imported and "torch" not in imported  # no check was submitted
