"""Loopback HTTP(S) receivers for the chat and webhook tests: what Slack, Teams or a webhook
endpoint would receive, recorded. TLS uses the test certificate in fixtures/tls (valid for
hooks.slack.com, localhost and 127.0.0.1), trusted by the client through REQUESTS_CA_BUNDLE;
a CONNECT proxy on loopback carries a client's https://hooks.slack.com/... request to the
receiver, so Apprise's Slack plugin runs unchanged, with its real URL, and nothing leaves the
machine."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseRequestHandler, ThreadingTCPServer
from typing import Any

TLS = Path(__file__).resolve().parent.parent / "fixtures" / "tls"
CERT = TLS / "cert.pem"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """An HTTP (or HTTPS) server on 127.0.0.1 that records every POST and answers `status`."""

    tls: bool = False
    status: int = 200
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                owner.received.append(Received(self.path, dict(self.headers.items()), body))
                self.send_response(owner.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(CERT, TLS / "key.pem")
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1 that tunnels every connection to one local port,
    recording the host:port each client asked for."""

    def __init__(self, target_port: int) -> None:
        self.asked: list[str] = []
        owner = self

        class Tunnel(BaseRequestHandler):
            def handle(self) -> None:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                owner.asked.append(head.split(b" ")[1].decode())
                upstream = socket.create_connection(("127.0.0.1", target_port))
                self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pumps = [threading.Thread(target=_pump, args=(a, b), daemon=True)
                         for a, b in ((self.request, upstream), (upstream, self.request))]
                for p in pumps:
                    p.start()
                for p in pumps:
                    p.join(timeout=30)
                upstream.close()

        ThreadingTCPServer.allow_reuse_address = True
        self.server = ThreadingTCPServer(("127.0.0.1", 0), Tunnel)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ConnectProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
