"""Headless Chromium driven over the DevTools protocol (a websocket, `websocket-client`), so
the tests see what a reader's browser sees: every network request, every console message, the
DOM after parsing. One browser per test run (per xdist worker): the `chromium` fixture in
conftest.py."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("MONITOR_TEST_CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = Path(CHROMIUM).exists()


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
