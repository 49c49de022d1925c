"""Who may see the dashboard.

On a loopback address the dashboard is open to this machine's users (and the Host header must
name the loopback, against DNS rebinding). Anywhere else it needs MONITOR_DASHBOARD_TOKEN, and
then every request must carry it: `Authorization: Bearer <token>`, or the session cookie that
the login form at /login sets. The cookie holds no token: it is an expiry signed with a key
derived from the token and a per-process secret, so a restart or a new token logs everyone out.
The token is compared in constant time and never written to a page, a log or a message.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from markupsafe import escape

from monitor.errors import ConfigError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "monitor_session"
SESSION_SECONDS = 12 * 3600
MIN_TOKEN_LENGTH = 16
LOGIN_PATH = "/login"
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach."""
    host = host.strip().strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to expose the dashboard beyond this machine without a token (exit code 2)."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"MONITOR_DASHBOARD_TOKEN is too short ({len(token)} characters; use at least "
            f"{MIN_TOKEN_LENGTH}). Generate one with: python -c \"import secrets; "
            "print(secrets.token_urlsafe(32))\"")
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve the dashboard on {host} without a token: anyone who can reach "
            "this address could read it. Set MONITOR_DASHBOARD_TOKEN in the environment (or "
            "the .env beside the config), e.g. export MONITOR_DASHBOARD_TOKEN=$(python -c "
            "\"import secrets; print(secrets.token_urlsafe(32))\"), or bind to 127.0.0.1 "
            "(the default).")


class TokenAuth:
    """Checks a request's bearer token or session cookie; issues session cookies."""

    def __init__(self, token: str) -> None:
        self._token = token.encode("utf-8")
        self._key = hashlib.sha256(b"monitor-dashboard-session\0" + secrets.token_bytes(32)
                                   + self._token).digest()

    def token_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode("utf-8"), self._token)

    def issue_session(self, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + SESSION_SECONDS)
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{expires}.{self._sign(nonce, expires)}"

    def session_valid(self, value: str, now: float | None = None) -> bool:
        try:
            nonce, expires_text, signature = value.split(".")
            expires = int(expires_text)
        except ValueError:
            return False
        if expires < (now if now is not None else time.time()):
            return False
        return hmac.compare_digest(signature, self._sign(nonce, expires))

    def _sign(self, nonce: str, expires: int) -> str:
        return hmac.new(self._key, f"{nonce}.{expires}".encode(), hashlib.sha256).hexdigest()

    def allows(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() == "bearer" and credential and self.token_matches(credential.strip()):
            return True
        cookie = _cookies(headers.get("cookie", "")).get(SESSION_COOKIE)
        return cookie is not None and self.session_valid(cookie)


def _cookies(header: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            out.setdefault(name, value.strip('"'))
    return out


def session_cookie_header(value: str, *, max_age: int = SESSION_SECONDS) -> str:
    # HttpOnly: no script reads it; SameSite=Strict: no other site's form or link sends it.
    return (f"{SESSION_COOKIE}={value}; Max-Age={max_age}; Path=/; HttpOnly; "
            "SameSite=Strict")


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _respond(send: Send, status: int, body: str, headers: list[tuple[str, str]]) -> None:
    data = body.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in [
                    ("content-type", "text/html; charset=utf-8"),
                    ("content-length", str(len(data))), *headers]]})
    await send({"type": "http.response.body", "body": data})


def _unauthorised_page(path: str) -> str:
    target = f"{LOGIN_PATH}?next={quote(path, safe='/')}"
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<link rel=\"icon\" href=\"data:,\"><title>Sign in required</title></head><body>"
            "<h1>Sign in required</h1><p>This dashboard needs its access token. "
            f"<a href=\"{escape(target)}\">Sign in</a>, or send "
            "<code>Authorization: Bearer &lt;token&gt;</code>.</p></body></html>")


class AuthMiddleware:
    """401 for every request without the token or a valid session (except the login form)."""

    def __init__(self, app: ASGIApp, auth: TokenAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == LOGIN_PATH:
            await self.app(scope, receive, send)
            return
        if self.auth.allows(_headers(scope)):
            await self.app(scope, receive, send)
            return
        await _respond(send, 401, _unauthorised_page(scope["path"]),
                       [("www-authenticate", 'Bearer realm="monitor"'),
                        ("cache-control", "no-store")])


class LoopbackHostMiddleware:
    """On a loopback binding, only Host headers naming the loopback are served, so a web page
    elsewhere cannot reach the dashboard through a DNS name rebound to 127.0.0.1."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = _headers(scope).get("host", "")
            name = host[1:host.index("]")] if host.startswith("[") and "]" in host \
                else host.rsplit(":", 1)[0]
            if not is_loopback(name):
                await _respond(send, 400, "<!doctype html><title>Bad host</title><p>This "
                               "dashboard answers to 127.0.0.1 or localhost only.</p>", [])
                return
        await self.app(scope, receive, send)
