"""Loopback networking for the tests: ports to name in a configuration before anything
listens on them, one HTTP request without redirects, and an ASGI app served in a thread."""

from __future__ import annotations

import http.client
import itertools
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

# Ports handed out by free_port(): below Linux's ephemeral range (32768-60999), where the
# kernel picks the ports of outgoing connections and of bind(port 0), so no connection made by
# a parallel test (another xdist worker, Chromium, a client) can take a port between the time
# a test writes it into a configuration and the time its SMTP sink or service binds it. Each
# process starts at a random place in the range and never hands the same port out twice.
_FIRST, _LAST = 20000, 32000
_ports = itertools.count(random.Random(os.getpid() ^ time.time_ns()).randrange(_FIRST, _LAST))


def free_port() -> int:
    """A loopback TCP port nothing listens on now, for a server the test starts later."""
    for _ in range(_LAST - _FIRST):
        port = _FIRST + (next(_ports) - _FIRST) % (_LAST - _FIRST)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {_FIRST}-{_LAST}")


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: str


def request(port: int, path: str, *, method: str = "GET", headers: dict[str, str] | None = None,
            form: dict[str, str] | None = None) -> Response:
    """One HTTP request to 127.0.0.1:port (never following redirects)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = urlencode(form).encode() if form is not None else None
    all_headers = {**({"Content-Type": "application/x-www-form-urlencoded"} if body else {}),
                   **(headers or {})}
    try:
        conn.request(method, path, body=body, headers=all_headers)
        reply = conn.getresponse()
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()},
                        reply.read().decode("utf-8"))
    finally:
        conn.close()


@contextmanager
def serving(app: Any) -> Iterator[int]:
    """An ASGI app (the dashboard) served by uvicorn in a thread on 127.0.0.1 (a port the
    kernel picks, bound before the server starts); yields the port."""
    import uvicorn

    from monitor.web.app import bind

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
