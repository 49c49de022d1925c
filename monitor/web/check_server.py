"""Draft checks answered by a running service or dashboard, whose model is already loaded.

A cold `monitor check` spends nearly all its time loading the encoder. `monitor run` and
`monitor serve` keep theirs in memory, so each starts this small HTTP server on 127.0.0.1 (a
port of the system's choosing) and writes where it is, with a random token, in a file next to
the configuration (mode 600). `monitor check` reads that file first (no database, no model),
posts the draft, and prints the answer; when no process answers, it checks on its own.

The file says: {"url": ..., "token": ..., "pid": ..., "config": ...}. Only a process that can
read it (the user who runs the monitor) can ask.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from monitor.app.analyse import check_draft, check_payload
from monitor.config import MonitorConfig
from monitor.config_files import address_file
from monitor.embed import Encoder, Encoders
from monitor.errors import MonitorError
from monitor.store import Store

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


class CheckServer:
    """The draft-check endpoint of a running process; `close` stops it and removes its file."""

    def __init__(self, cfg: MonitorConfig, store: Store, encoders: Encoders | Encoder,
                 clock: Callable[[], datetime]) -> None:
        self.token = secrets.token_urlsafe(24)
        self.lock = threading.Lock()  # one check at a time: the encoder is shared
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != "/check" or not hmac.compare_digest(
                        self.headers.get("X-Monitor-Token", ""), server.token):
                    self._send(404, {"error": "not found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 < length <= MAX_BODY:
                    self._send(400, {"error": "a JSON body of at most 64 KiB"})
                    return
                try:
                    ask = json.loads(self.rfile.read(length))
                    pair_name, at_text, text = ask.get("pair"), ask.get("at_text"), ask["text"]
                    if not all(isinstance(v, str | None) for v in (pair_name, at_text)) or \
                            not isinstance(text, str):
                        raise TypeError("pair, text and at_text are strings")
                    now = clock()
                    pair = cfg.pair_or_only(pair_name)
                    when = cfg.draft_moment(at_text, now)
                    with server.lock:
                        result = check_draft(store, cfg, pair, encoders, text,
                                             now=when or now)
                    self._send(200, check_payload(result))
                except MonitorError as exc:
                    self._send(422, {"error": str(exc), "exit_code": exc.exit_code})
                except (ValueError, KeyError, TypeError) as exc:
                    self._send(400, {"error": f"bad request: {type(exc).__name__}"})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("check server: " + format, *args)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                       name="check-server")
        self.thread.start()
        self.file = address_file(cfg.source)
        if self.file is not None:
            fd = os.open(self.file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"url": self.url, "token": self.token, "pid": os.getpid(),
                           "config": cfg.source}, handle)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.file is not None:
            try:
                current = json.loads(self.file.read_text(encoding="utf-8"))
                if current.get("pid") == os.getpid():
                    self.file.unlink()
            except (OSError, ValueError):
                pass
