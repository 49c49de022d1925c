"""The HTML report in headless Chromium: loads nothing, runs nothing, draws its charts.

Chromium is driven over the DevTools protocol (a websocket, `websocket-client`), so the tests see
what a reader's browser sees: every network request, every console message, the DOM after
parsing. The helpers here (`Chromium`, `sample_store`) are shared with tests/test_dashboard.py.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from monitor.models import AlertEvent, AlertState, AlertStatus

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "monitor" / "sample" / "maison_lumiere.jsonl"
CHROMIUM = os.environ.get("MONITOR_TEST_CHROMIUM", "/usr/bin/chromium")

# The corporate launch post of the sample, reworded, with markup that must stay text.
HOSTILE = ("La voici enfin : Lanterne Nomade, notre première lampe d'extérieur rechargeable. "
           "Laiton recyclé, verre soufflé à Lyon, 40 h d'autonomie, recharge USB-C. Lancement "
           "le 6 octobre, précommandes ouvertes dès aujourd'hui ! "
           "<script>window.__pwned = 1</script> <img src=x onerror=\"window.__pwned = 2\">")
HOSTILE_ID = "990000000000000001"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")


# -- the sample store ----------------------------------------------------------------------

@dataclass(frozen=True)
class SampleStore:
    folder: Path
    config: Path
    encoder: Any  # the encoder that analysed it, for in-process dashboards
    pair: str = "maison-lumiere"


# Two firing episodes in the alert history: the launch (resolved) and one still firing.
ALERT_EVENTS = [("pending", "2026-09-29T06:00:00+00:00", 0, 0.62),
                ("firing", "2026-09-30T06:00:00+00:00", 1, 0.8),
                ("repeat", "2026-10-01T06:00:00+00:00", 1, 0.86),
                ("resolved", "2026-10-14T06:00:00+00:00", 1, 0.2),
                ("firing", "2026-10-27T06:00:00+00:00", 2, 0.42)]


_SAMPLE_CACHE: dict[str, SampleStore] = {}


def sample_store(tmp_path_factory: pytest.TempPathFactory) -> SampleStore:
    """The bundled sample plus a hostile paraphrase of a corporate post, analysed with the
    numpy-only multilingual encoder; built once per test session, shared by the modules."""
    if "sample" in _SAMPLE_CACHE:
        return _SAMPLE_CACHE["sample"]
    from monitor import pipeline
    from monitor.config import load_config
    from monitor.embed import make_encoder
    from monitor.store import Store

    folder = tmp_path_factory.mktemp("sample-store")
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    # Posted two hours after the brand's launch post it paraphrases (2026-09-29 09:00 UTC).
    hostile = {"id": HOSTILE_ID, "account": "claire_ml", "created_at": "2026-09-29T11:00:00Z",
               "text": HOSTILE}
    posts = folder / "posts.jsonl"
    posts.write_text("\n".join([*lines, json.dumps(hostile, ensure_ascii=False)]) + "\n",
                     encoding="utf-8")
    config = folder / "monitor.toml"
    config.write_text('[database]\nurl = "sqlite:///monitor.db"\n'
                      '[model]\nname = "use-multilingual"\n[ui]\nlanguage = "en"\n'
                      '[[pairs]]\nname = "maison-lumiere"\nexecutive = ["claire_ml"]\n'
                      'corporate = ["MaisonLumiere", "MaisonLumiereFR"]\n', encoding="utf-8")
    cfg = load_config(config)
    encoder = make_encoder(cfg.model.name)
    with Store.open(cfg.database_url()) as store:
        pipeline.import_jsonl(store, posts)
        pipeline.analyse_pair(store, cfg, cfg.pairs[0], encoder)
        _record_alerts(store, cfg.pairs[0].name)
    _SAMPLE_CACHE["sample"] = SampleStore(folder, config, encoder)
    return _SAMPLE_CACHE["sample"]


def _record_alerts(store: Any, pair: str) -> None:
    from datetime import datetime


    when = [datetime.fromisoformat(at) for _, at, _, _ in ALERT_EVENTS]
    state = AlertState(pair=pair, status=AlertStatus.FIRING, pending_count=2, sequence=2,
                       active_since=when[-1], notified=True, last_notified_at=when[-1],
                       last_rate=0.42, last_posts=12, last_evaluated_at=when[-1])
    events = [AlertEvent(pair=pair, at=at, kind=kind, sequence=seq, rate=rate, posts=12,
                         detail=f"test history: {kind}")
              for (kind, _, seq, rate), at in zip(ALERT_EVENTS, when, strict=True)]
    store.record_alert_evaluation(state, events, [], when[-1])


# -- Chromium over the DevTools protocol ------------------------------------------------------

class Chromium:
    """One headless Chromium and one page, driven over the DevTools protocol."""

    def __init__(self, profile: Path, artifacts: Path) -> None:
        import websocket  # websocket-client

        self.artifacts = artifacts
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions", "--disable-default-apps",
             "--remote-debugging-port=0", "--remote-allow-origins=*",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while not (active.exists() and len(active.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not start (no DevToolsActivePort)")
            time.sleep(0.05)
        port, path = active.read_text().splitlines()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=30,
                                              suppress_origin=True)
        self._id = 0
        self.events: list[dict[str, Any]] = []
        self.page_events = 0  # index in events where the current page's began
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=True)
        self.send("Emulation.setDeviceMetricsOverride", session=True, width=1200, height=900,
                  deviceScaleFactor=1, mobile=False)

    def send(self, method: str, *, session: bool = False, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def _wait_for(self, method: str, since: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events[since:]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(json.loads(self.ws.recv()))

    def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        mark = len(self.events)
        self.send("Page.navigate", session=True, url=url)
        self._wait_for("Page.loadEventFired", mark)
        self.page_events = mark

    def eval(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", session=True, expression=expression,
                           returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def submit(self, form_selector: str, fields: dict[str, str]) -> None:
        """Fill a form and submit it as a user would, then wait for the next page."""
        mark = len(self.events)
        self.eval(f"(() => {{ const f = document.querySelector({json.dumps(form_selector)});"
                  f" const v = {json.dumps(fields)};"
                  " for (const [k, x] of Object.entries(v)) f.elements[k].value = x;"
                  " f.requestSubmit(); })()")
        self._wait_for("Page.loadEventFired", mark, timeout=60)
        self.page_events = mark

    def requests(self) -> list[str]:
        """Every URL requested since the browser started."""
        return [e["params"]["request"]["url"] for e in self.events
                if e.get("method") == "Network.requestWillBeSent"]

    def console_errors(self) -> list[str]:
        """Errors logged since the last navigation (uncaught exceptions, console.error,
        failed loads, refused content)."""
        out = []
        for e in self.events[self.page_events:]:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(params.get("exceptionDetails", {}))[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                                 "assert"):
                out.append(json.dumps(params.get("args", []))[:300])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(params["entry"].get("text", "")[:300])
        return out

    def screenshot(self, name: str) -> Path:
        """A full-page PNG in the test artefacts folder (see conftest `artifacts`), for a
        human to look at."""
        metrics = self.send("Page.getLayoutMetrics", session=True)["cssContentSize"]
        data = self.send("Page.captureScreenshot", session=True, format="png",
                         captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": metrics["width"],
                               "height": min(metrics["height"], 16000), "scale": 1})["data"]
        path = self.artifacts / name
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[Chromium]:
    browser = Chromium(tmp_path_factory.mktemp("chromium-profile"), artifacts)
    try:
        yield browser
    finally:
        browser.close()
        shutil.rmtree(tmp_path_factory.getbasetemp() / "chromium-profile0", ignore_errors=True)


def only_local(urls: list[str]) -> list[str]:
    """The requests that went anywhere but this machine (data: and about: are local)."""
    return [u for u in urls if urlsplit(u).scheme not in ("file", "data", "about")
            and urlsplit(u).hostname not in ("127.0.0.1",)]


def chart_shapes(browser: Chromium, chart_id: str) -> dict[str, Any]:
    return dict(browser.eval(
        f"(() => {{ const s = document.getElementById({json.dumps(chart_id)});"
        " if (!s) return null; const r = s.getBoundingClientRect();"
        " return {tag: s.tagName.toLowerCase(), width: r.width, height: r.height,"
        " shapes: s.querySelectorAll('path, rect, use').length,"
        " title: (s.querySelector('title') || {}).textContent}; })()") or {})


def assert_hostile_text_is_inert(browser: Chromium) -> None:
    assert browser.eval("typeof window.__pwned") == "undefined"
    assert browser.eval("document.scripts.length") == 0
    assert browser.eval("document.querySelectorAll('img').length") == 0
    cells = browser.eval("[...document.querySelectorAll('td.post')].map(td => td.textContent)"
                         ".filter(t => t.includes('Lanterne Nomade'))")
    assert any("<script>window.__pwned = 1</script>" in t and
               '<img src=x onerror="window.__pwned = 2">' in t for t in cells), cells


# -- the tests ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`monitor report --format html` on the sample, as a user runs it."""
    from tests.test_cli import run

    sample = sample_store(tmp_path_factory)
    out = sample.folder / "report.html"
    result = run("--config", str(sample.config), "report", "--since", "2026-08-01", "--until",
                 "2026-12-01", "--format", "html", "-o", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_report_loads_nothing_and_runs_nothing(chromium: Chromium, report_file: Path) -> None:
    chromium.open(report_file.as_uri())
    assert only_local(chromium.requests()) == []
    assert chromium.console_errors() == []
    assert chromium.eval("document.title") == "Voice report: maison-lumiere"
    assert_hostile_text_is_inert(chromium)
    chromium.screenshot("report.png")
    # Printable: the print stylesheet lays it out on A4 pages.
    pdf = base64.b64decode(chromium.send("Page.printToPDF", session=True,
                                         preferCSSPageSize=True)["data"])
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    assert pdf.startswith(b"%PDF") and pages >= 3, pages
    (chromium.artifacts / "report.pdf").write_bytes(pdf)


def test_report_charts_are_drawn(chromium: Chromium, report_file: Path) -> None:
    chromium.open(report_file.as_uri())
    for chart_id, title in (("chart-weekly", "Weekly overlap rate"),
                            ("chart-mix", "Class mix per week"),
                            ("chart-similarity", "Similarity distribution")):
        shape = chart_shapes(chromium, chart_id)
        assert shape["tag"] == "svg" and shape["title"] == title
        assert shape["width"] > 300 and shape["height"] > 100
        assert shape["shapes"] > 20
    # The alert weeks of the launch are shaded, and listed in words under the chart.
    assert "Weeks at or above the alert threshold:" in chromium.eval(
        "document.getElementById('s-weekly').textContent")
    assert chromium.eval("document.querySelectorAll('#weekly tr.alert-week').length") >= 2
    ids = chromium.eval("[...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(ids) == len(set(ids))  # three inline SVGs, no shared id


def test_report_file_is_self_contained(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    # The only absolute URLs are the <a href> links to the posts: nothing to load, not even an
    # SVG namespace URL that a reviewer would have to think about.
    absolute = re.findall(r"(?:https?:)?//[\w.-]+", html)
    links = re.findall(r'<a [^>]*href="(https://x\.com/[\w]+/status/\d+)"', html)
    assert links and len(absolute) == len(links), sorted(set(absolute))
    assert "<script" not in html.lower() and " on" not in html.split("<body>")[0]
    assert "Content-Security-Policy" in html  # a browser refuses any load or script anyway
