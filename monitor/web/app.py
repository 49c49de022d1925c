"""The read-only dashboard: a Starlette app over the store, rendered with the report templates.

Every page is a GET that reads; the pre-publication check is the one POST, and it changes
nothing a user can see (it may cache the corporate posts' vectors, as `monitor check` does).
Pages are rendered by Jinja2 with autoescape, and every response forbids scripts and any load
from elsewhere (Content-Security-Policy), so a post's text can never act in the page.
The embedding model (torch) is loaded only when the first check is submitted.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from monitor.app import reports
from monitor.app.analyse import check_draft
from monitor.config import MonitorConfig, PairConfig
from monitor.embed.encoder import Encoder, Encoders
from monitor.errors import MonitorError, UnknownPair, UsageError
from monitor.i18n import LANGUAGES, N_, Lang
from monitor.models import PostClass
from monitor.report.render import FORMATS, html_context, render, template_environment
from monitor.store import Store
from monitor.timeparse import AT, local, parse_moment
from monitor.web import data
from monitor.web.auth import (
    LOGIN_PATH,
    AuthMiddleware,
    LoopbackHostMiddleware,
    TokenAuth,
    check_binding,
    is_loopback,
    session_cookie_header,
)

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_BYTES = 64 * 1024  # a draft is a few hundred characters
MAX_DRAFT_CHARS = 4000
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
                 "json": "application/json", "csv": "text/csv; charset=utf-8"}
# No script at all, nothing from elsewhere: even a post text that escaped escaping is inert.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
                    # same-origin, not no-referrer: with no-referrer a browser sends
                    # "Origin: null" on form posts, and the origin check needs it.
                    "referrer-policy": "same-origin", "x-frame-options": "DENY",
                    "cache-control": "no-store"}


class Dashboard:
    """The pages. Sync handlers run in Starlette's thread pool; the store is shared."""

    def __init__(self, cfg: MonitorConfig, store: Store, *, token: str | None = None,
                 encoder_factory: Callable[[], Encoder | Encoders] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.cfg = cfg
        self.store = store
        self.auth = TokenAuth(token) if token else None
        self._encoder_factory = encoder_factory or self._configured_encoder
        self._encoder: Encoder | Encoders | None = None
        self._encoder_lock = threading.Lock()
        self.clock = clock
        # One template environment per language: pages of a pair speak the pair's language.
        self.envs = {code: self._environment(Lang.of(code, cfg.schedule.timezone))
                     for code in LANGUAGES}

    def _environment(self, lang: Lang) -> Any:
        env = template_environment(TEMPLATES, lang=lang)
        env.globals.update(pairs=self.cfg.pairs, auth_enabled=self.auth is not None,
                           formats=FORMATS, classes=PostClass)
        env.filters["pair_url"] = lambda name: "/pairs/" + quote(str(name), safe="")
        env.filters["post_view"] = lambda post, pair: (
            f"/pairs/{quote(str(pair), safe='')}/posts/{quote(post.post_id, safe='')}")
        return env

    def lang(self, pair: PairConfig | None = None) -> Lang:
        return Lang.of(self.cfg.language_for(pair), self.cfg.schedule.timezone)

    def _configured_encoder(self) -> Encoders:
        return Encoders(batch_size=self.cfg.model.batch_size)

    def encoder(self) -> Encoder | Encoders:
        """The model, loaded once, on the first check (not at start: torch is slow to load)."""
        with self._encoder_lock:
            if self._encoder is None:
                self._encoder = self._encoder_factory()
            return self._encoder

    # -- helpers -----------------------------------------------------------------------------

    def page(self, template: str, status: int = 200, *, pair: PairConfig | None = None,
             **context: Any) -> HTMLResponse:
        """A page in the language of `pair` (the dashboard's language without one)."""
        env = self.envs[self.cfg.language_for(pair)]
        html = env.get_template(template).render(pair=pair, **context)
        return HTMLResponse(html, status_code=status)

    def problem(self, status: int, message: str) -> HTMLResponse:
        return self.page("problem.html.j2", status=status, status_code=status, message=message)

    def _pair(self, request: Request) -> PairConfig:
        return self.cfg.pair(request.path_params["pair"])

    # -- pages -------------------------------------------------------------------------------

    def index(self, request: Request) -> Response:
        p = data.period(dict(request.query_params), self.clock(), self.lang().tz,
                        self.cfg.schedule.zone_name)
        summaries = [reports.pair_summary(self.store, self.cfg, pair, p.since)
                     for pair in self.cfg.pairs]
        return self.page("index.html.j2", summaries=summaries, period=p,
                         alert_threshold=self.cfg.alerts.threshold)

    def pair_page(self, request: Request) -> Response:
        pair = self._pair(request)
        p = data.period(dict(request.query_params), self.clock(), self.lang().tz,
                        self.cfg.schedule.zone_name)
        view = reports.pair_view(self.store, self.cfg, pair, since=p.since, until=p.until,
                                 now=self.clock())
        context = html_context(view.report, alerts=view.history.periods, lang=self.lang(pair))
        return self.page("pair.html.j2", pair=pair, **context, history=view.history, period=p,
                         draft="", at="", result=None)

    def post_page(self, request: Request) -> Response:
        pair = self._pair(request)
        item = reports.post_item(self.store, self.cfg, pair, request.path_params["post_id"])
        if item is None:
            return self.problem(404, f"no analysed post {request.path_params['post_id']!r} "
                                f"of pair {pair.name!r}")
        return self.page("post.html.j2", pair=pair, item=item)

    def flagged(self, request: Request) -> Response:
        pair = self._pair(request)
        q = dict(request.query_params)
        p = data.period(q, self.clock(), self.lang().tz, self.cfg.schedule.zone_name)
        try:
            page_no = int(q.get("page", "1"))
        except ValueError:
            page_no = 1
        listing = reports.flagged(self.store, self.cfg, pair, since=p.since, until=p.until,
                                  wanted=q.get("class", "flagged"), page=page_no)
        return self.page("flagged.html.j2", pair=pair, period=p, listing=listing)

    def download(self, request: Request) -> Response:
        pair = self._pair(request)
        fmt = request.path_params["fmt"]
        if fmt not in FORMATS:
            return self.problem(404, f"no report format {fmt!r}: use one of "
                                f"{', '.join(FORMATS)}")
        p = data.period(dict(request.query_params), self.clock(), self.lang().tz,
                        self.cfg.schedule.zone_name)
        view = reports.pair_view(self.store, self.cfg, pair, since=p.since, until=p.until,
                                 now=self.clock(), with_silences=False)
        body = render(view.report, fmt, alerts=view.history.periods, lang=self.lang(pair))
        name = re.sub(r"[^\w.-]+", "-", pair.name)
        response = Response(body, media_type=CONTENT_TYPES[fmt])
        response.headers["content-disposition"] = (
            f'attachment; filename="{name}-report.{fmt}"')
        return response

    def check_form(self, request: Request) -> Response:
        pair = self._pair(request)
        return self.page("check.html.j2", pair=pair, draft="", at="", result=None)

    async def check_submit(self, request: Request) -> Response:
        pair = await run_in_threadpool(self._pair, request)
        if not _same_origin(request):
            return await run_in_threadpool(self.problem, 403,
                                           "this form must be sent from the dashboard itself")
        form = await _read_form(request)
        if form is None:
            return await run_in_threadpool(self.problem, 413,
                                           f"the draft is too long: at most {MAX_DRAFT_CHARS} "
                                           "characters")
        draft, at_text = form.get("text", "")[:MAX_DRAFT_CHARS], form.get("at", "").strip()
        return await run_in_threadpool(self._check, pair, draft, at_text)

    def _check(self, pair: PairConfig, draft: str, at_text: str) -> Response:
        try:
            at = (parse_moment(at_text, self.clock(), what="at",
                               syntax=local(AT, self.lang().tz, self.cfg.schedule.zone_name))
                  if at_text else None)
            result = check_draft(self.store, self.cfg, pair, self.encoder(), draft,
                                          now=at)
        except UsageError as exc:
            return self.page("check.html.j2", status=400, pair=pair, draft=draft, at=at_text,
                             result=None, error=str(exc))
        return self.page("check.html.j2", pair=pair, draft=draft, at=at_text, result=result)

    # -- signing in --------------------------------------------------------------------------

    def login_form(self, request: Request) -> Response:
        return self.page("login.html.j2", next=_local_path(request.query_params.get("next")),
                         error=None)

    async def login_submit(self, request: Request) -> Response:
        form = await _read_form(request) or {}
        target = _local_path(form.get("next"))
        if self.auth is None:
            return RedirectResponse(target, status_code=303)
        if not _same_origin(request) or not self.auth.token_matches(form.get("token", "")):
            # The token typed is never echoed back into the page.
            return await run_in_threadpool(self.page, "login.html.j2", 401, next=target,
                                           error=N_("That token is not the dashboard's token."))
        response = RedirectResponse(target, status_code=303)
        response.headers["set-cookie"] = session_cookie_header(self.auth.issue_session())
        return response

    def logout(self, request: Request) -> Response:
        response = RedirectResponse(LOGIN_PATH if self.auth else "/", status_code=303)
        response.headers["set-cookie"] = session_cookie_header("", max_age=0)
        return response


def _local_path(value: str | None) -> str:
    """Only a path on this site: a login must never redirect somewhere else."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _same_origin(request: Request) -> bool:
    """Refuse forms posted from other sites: browsers say where a request comes from."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:  # every current browser sends it
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:  # not a browser form (curl, a script): the token still applies
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def _read_form(request: Request) -> dict[str, str] | None:
    """An url-encoded form body (first value of each field), or None when too large."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


class SecurityHeaders:
    """Adds the headers of SECURITY_HEADERS to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *[
                    (k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                    if k.encode() not in present]]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(dashboard: Dashboard, *, loopback: bool = True) -> Starlette:
    """The ASGI app. `loopback`: the server listens on a loopback address only."""
    d = dashboard
    routes = [
        Route("/", d.index),
        Route("/pairs/{pair}", d.pair_page),
        Route("/pairs/{pair}/posts/{post_id}", d.post_page),
        Route("/pairs/{pair}/flagged", d.flagged),
        Route("/pairs/{pair}/report.{fmt}", d.download),
        Route("/pairs/{pair}/check", d.check_form, methods=["GET"]),
        Route("/pairs/{pair}/check", d.check_submit, methods=["POST"]),
        Route(LOGIN_PATH, d.login_form, methods=["GET"]),
        Route(LOGIN_PATH, d.login_submit, methods=["POST"]),
        Route("/logout", d.logout),
    ]
    middleware = [Middleware(SecurityHeaders)]
    if loopback:
        middleware.append(Middleware(LoopbackHostMiddleware))
    if d.auth is not None:
        middleware.append(Middleware(AuthMiddleware, auth=d.auth))

    def on_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, UnknownPair):
            return d.problem(404, str(exc))
        if isinstance(exc, UsageError):
            return d.problem(400, str(exc))
        assert isinstance(exc, MonitorError)
        log.warning("dashboard: %s", exc)
        return d.problem(500, str(exc))

    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={MonitorError: on_error})


# -- serving -----------------------------------------------------------------------------------

def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the server starts so a busy port is a clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): choose "
                         "another --port, or stop what uses it.") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(cfg: MonitorConfig, *, host: str, port: int, token: str | None,
          echo: Callable[[str], None] = print) -> None:
    """Run the dashboard until interrupted. Raises ConfigError (exit 2) before binding
    anything when a non-loopback address is asked for without a token."""
    check_binding(host, token)
    import uvicorn

    from monitor.web.check_server import CheckServer

    sock = bind(host, port)
    with Store.open(cfg.database_url()) as store:
        loopback = is_loopback(host)
        dashboard = Dashboard(cfg, store, token=token)
        app = create_app(dashboard, loopback=loopback)
        actual = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        echo(f"Dashboard on http://{shown}:{actual}/ "
             + ("(this machine only)" if loopback else "(token required)")
             + "; Ctrl+C to stop.")
        config = uvicorn.Config(app, log_level="info", server_header=False,
                                proxy_headers=False, lifespan="off")
        # `monitor check` on this machine asks this process, whose model stays loaded.
        with contextlib.closing(CheckServer(cfg, store, dashboard.encoder(), dashboard.clock)):
            uvicorn.Server(config).run(sockets=[sock])
