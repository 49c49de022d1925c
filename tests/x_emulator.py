"""Offline X (Twitter) API v2 emulator with fault injection, for tests.

A real HTTP server on loopback that answers the v2 endpoints the monitor's X collector uses,
in X's JSON shapes, so tweepy.Client is exercised for real without the internet.
Standard library only, so it runs wherever the tests do.

Script use: python tests/x_emulator.py --port 8999 --token TOKEN [--jsonl posts.jsonl]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import math
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

Json = dict[str, Any]
PROBLEMS = "https://api.twitter.com/2/problems/"
TWITTER_EPOCH_MS = 1288834974657  # snowflake epoch: IDs then sort like creation times
TIMELINE_CAP = 3200  # X only serves a user's most recent 3200 posts
RATE_LIMIT, RATE_WINDOW = 900, 900.0  # requests per endpoint per 15-minute window
DEFAULT_TWEET_FIELDS = {"id", "text", "edit_history_tweet_ids"}  # what X sends unasked
DEFAULT_USER_FIELDS = {"id", "name", "username"}
FAULT_KINDS = {"429", "500", "503", "slow", "malformed", "401"}
UNAUTHORIZED: Json = {
    "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
URL_RE = re.compile(r"https?://\S*[^\s.,;:!?)\]'\"…]")  # trailing punctuation is not in a link
HASHTAG_RE = re.compile(r"(?<!\w)#(\w+)")
MENTION_RE = re.compile(r"(?<![\w@])@(\w{1,15})")
# account status -> (HTTP status on the timeline, error title, detail template, problem type)
STATUS_ERRORS = {
    "deleted": (404, "Not Found Error", "Could not find user with {p}: [{v}].",
                "resource-not-found"),
    "suspended": (403, "Forbidden", "User has been suspended: [{v}].", "resource-not-found"),
    "protected": (403, "Authorization Error",
                  "Sorry, you are not authorized to see the user with {p}: [{v}].",
                  "not-authorized-for-resource"),
}
ROUTES: list[tuple[str, re.Pattern[str]]] = [
    ("users_by", re.compile(r"/2/users/by")),
    ("user_by_username", re.compile(r"/2/users/by/username/([^/]+)")),
    ("timeline", re.compile(r"/2/users/(\d+)/tweets")),
    ("user_by_id", re.compile(r"/2/users/(\d+)")),
    ("users_by_ids", re.compile(r"/2/users")),
]


def iso(dt: datetime) -> str:
    """X's timestamp format: UTC, milliseconds, 'Z' suffix."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(value: datetime | str) -> datetime:
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)  # naive means UTC


def _csv(value: str | None) -> list[str]:
    """Comma-separated query value -> unique items in request order (X answers in that order)."""
    return list(dict.fromkeys(p.strip() for p in (value or "").split(",") if p.strip()))


def _shorten(text: str, urls: list[str], links: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Swap links in text for t.co ones, appending listed URLs missing from it, as X stores them."""
    for url in dict.fromkeys([*URL_RE.findall(text), *(u for u in urls if u not in text)]):
        if url.startswith("https://t.co/"):
            continue  # already shortened (e.g. carried over by a retweet)
        tco = "https://t.co/" + hashlib.sha1(url.encode()).hexdigest()[:10]
        text = text.replace(url, tco) if url in text else f"{text} {tco}"
        links[tco] = url
    return text, links


def _display(url: str) -> str:
    """X's display_url: no scheme or www, long ones cut with an ellipsis."""
    short = re.sub(r"^https?://(www\.)?", "", url)
    return short if len(short) <= 25 else short[:24] + "…"


def _problem(title: str, detail: str, status: int, errors: list[Json] | None = None,
             kind: str = "") -> Json:
    # tweepy builds its exception text from errors[].message, else from the top-level detail
    body: Json = {"title": title, "detail": detail, "status": status,
                  "type": PROBLEMS + kind if kind else "about:blank"}
    return {"errors": errors, **body} if errors else body


def _invalid(param: str, value: str, why: str) -> tuple[int, Json]:
    message = f"The `{param}` query parameter value [{value}] {why}"
    return 400, _problem("Invalid Request", "One or more parameters to your request was invalid.",
                         400, [{"parameters": {param: [value]}, "message": message}],
                         "invalid-request")


def _user_error(status: str, value: str, param: str) -> Json:
    _, title, detail, kind = STATUS_ERRORS[status]
    return {"value": value, "detail": detail.format(p=param, v=value), "title": title,
            "resource_type": "user", "parameter": param, "resource_id": value,
            "type": PROBLEMS + kind}


@dataclass
class _User:
    id: str
    username: str
    name: str
    status: str = "active"  # active|suspended|protected|deleted
    created_at: datetime = datetime(2015, 1, 1, tzinfo=UTC)


@dataclass
class _Post:
    id: str
    author_id: str
    text: str
    created_at: datetime
    kind: str  # original|reply|retweet|quote
    referenced_id: str | None
    lang: str
    conversation_id: str
    in_reply_to_user_id: str | None
    urls: dict[str, str]  # t.co link -> expanded URL
    history: list[str]  # one list shared by all versions, so every version sees every edit


@dataclass
class _Fault:
    kind: str
    remaining: int
    account: str | None
    endpoint: str
    reset_in: float
    delay: float
    headers: dict[str, str] = field(default_factory=dict)  # sent as given, over the usual ones


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _within(post: _Post, name: str, value: str) -> bool:
    """since_id/until_id are exclusive; start_time is inclusive, end_time exclusive (X docs)."""
    if name in {"since_id", "until_id"}:
        return int(post.id) > int(value) if name == "since_id" else int(post.id) < int(value)
    bound = parse_time(value)
    return post.created_at >= bound if name == "start_time" else post.created_at < bound


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler stuck in a slow fault must never block shutdown
    emulator: XEmulator


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        emulator = cast(_Server, self.server).emulator
        reply = emulator.handle_request("GET", self.path, self.headers.get("Authorization"))
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a read timeout on a slow fault): that is the point

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; XEmulator.requests is the log


class XEmulator:
    def __init__(self, token: str = "test-bearer-token", host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.token, self.host, self.port = token, host, port
        # What X would bill: posts served per username, counted when the answer is built, so a
        # slow answer the client gave up on counts too (X bills it all the same).
        self.served_posts: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._users: dict[str, _User] = {}  # by id
        self._by_name: dict[str, str] = {}  # lowercased username -> id: X ignores case
        self._posts: dict[str, _Post] = {}
        self._faults: list[_Fault] = []
        self._seq = 0
        self._calls: dict[str, int] = {}
        self._window_start = time.time()
        # Requests per endpoint per 15-minute window, app-wide as on X; lower it to test limits.
        self.rate_limit = RATE_LIMIT
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> XEmulator:
        self._server = _Server((self.host, self.port), _Handler)
        self._server.emulator = self
        self.port = self._server.server_address[1]  # port 0 -> the one the OS picked
        self._thread = threading.Thread(  # short poll: stop() returns quickly
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> XEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- state set-up ----------------------------------------------------------------------
    def add_user(self, username: str, *, user_id: str | None = None,
                 name: str | None = None) -> str:
        with self._lock:
            if username.lower() in self._by_name:
                raise ValueError(f"user {username!r} exists")
            uid = user_id or str(1_000_000_000 + 7919 * (len(self._users) + 1))
            self._users[uid] = _User(uid, username, name or username.title())
            self._by_name[username.lower()] = uid
            return uid

    def _user(self, username: str) -> _User:
        return self._users[self._by_name[username.lower()]]

    def _new_id(self, created: datetime) -> str:
        # Snowflake-like: creation time in the high bits, so ID order is time order, as on X
        ms = max(int(created.timestamp() * 1000) - TWITTER_EPOCH_MS, 0)
        while True:
            self._seq += 1
            candidate = str((ms << 22) | (self._seq & 0x3FFFFF))
            if candidate not in self._posts:
                return candidate

    def add_post(self, username: str, text: str, *, created_at: datetime | str | None = None,
                 post_id: str | None = None, kind: str = "original",
                 referenced_id: str | None = None, urls: list[str] | None = None,
                 lang: str = "en") -> str:
        if kind not in {"original", "reply", "retweet", "quote"}:
            raise ValueError(f"bad kind {kind!r}")
        if (kind == "original") != (referenced_id is None):
            raise ValueError("referenced_id is required for (only) replies, retweets and quotes")
        if post_id is not None and not post_id.isdigit():
            raise ValueError("X post ids are numeric strings")
        with self._lock:
            if username.lower() not in self._by_name:
                self.add_user(username)
            author = self._user(username)
            created = parse_time(created_at) if created_at is not None else datetime.now(UTC)
            pid = post_id or self._new_id(created)
            ref = self._posts.get(referenced_id or "")
            if kind == "retweet":
                if ref is None:
                    raise ValueError("a retweet needs a known referenced post")
                # X gives a retweet its own text, "RT @user: ...", cut at 140 characters
                text = f"RT @{self._users[ref.author_id].username}: {ref.text}"
                text = text if len(text) <= 140 else text[:139] + "…"
                text, links = _shorten(text, [], {k: v for k, v in ref.urls.items() if k in text})
            else:
                text, links = _shorten(text, urls or [], {})
            reply_to = ref if kind == "reply" else None
            self._posts[pid] = _Post(
                pid, author.id, text, created, kind, referenced_id, lang,
                reply_to.conversation_id if reply_to else pid,
                reply_to.author_id if reply_to else None, links, [pid])
            return pid

    def add_posts(self, username: str, n: int, *, start: datetime,
                  step: timedelta = timedelta(hours=3)) -> list[str]:
        return [self.add_post(username, f"Update {i + 1} of {n} from {username}: item {i + 1}",
                              created_at=start + i * step) for i in range(n)]

    def edit_post(self, post_id: str, new_text: str) -> str:
        with self._lock:
            latest = self._posts[self._posts[post_id].history[-1]]
            # X allows edits within an hour; a fixed offset keeps fixtures deterministic
            created = latest.created_at + timedelta(minutes=1)
            new_id = self._new_id(created)
            text, links = _shorten(new_text, [], {})
            self._posts[new_id] = _Post(
                new_id, latest.author_id, text, created, latest.kind, latest.referenced_id,
                latest.lang, latest.conversation_id, latest.in_reply_to_user_id, links,
                latest.history)
            latest.history.append(new_id)
            return new_id

    def rename_user(self, old_username: str, new_username: str) -> None:
        with self._lock:
            user = self._user(old_username)
            del self._by_name[old_username.lower()]
            user.username = new_username
            self._by_name[new_username.lower()] = user.id

    def set_status(self, username: str, status: str) -> None:
        if status != "active" and status not in STATUS_ERRORS:
            raise ValueError(f"bad status {status!r}")
        with self._lock:
            self._user(username).status = status

    def add_fault(self, kind: str, *, times: int = 1, account: str | None = None,
                  endpoint: str = "timeline", reset_in: float = 1.0, delay: float = 0.0,
                  headers: dict[str, str] | None = None) -> None:
        """Queue a fault. `headers` override the fault reply's headers, e.g. a 429 whose
        x-rate-limit-reset is not a number: {"x-rate-limit-reset": "soon"}."""
        if kind not in FAULT_KINDS or endpoint not in {"timeline", "users", "any"}:
            raise ValueError(f"bad fault {kind!r} / endpoint {endpoint!r}")
        with self._lock:
            self._faults.append(_Fault(kind, times, account, endpoint, reset_in, delay,
                                       dict(headers or {})))

    @property
    def billed_posts(self) -> int:
        """Every post served, to every account: what X would bill for the whole session."""
        with self._lock:
            return sum(self.served_posts.values())

    @property
    def capped(self) -> dict[str, int]:
        """Accounts holding more posts than X serves (TIMELINE_CAP), with their post count."""
        with self._lock:
            counts: dict[str, int] = {}
            for p in self._posts.values():
                if p.history[-1] == p.id:
                    name = self._users[p.author_id].username
                    counts[name] = counts.get(name, 0) + 1
            return {name: n for name, n in counts.items() if n > TIMELINE_CAP}

    @property
    def in_flight(self) -> int:
        """Requests being answered right now (one sleeping in a slow fault counts)."""
        with self._idle:
            return self._in_flight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being answered (a slow fault may still be serving after
        the client gave up): then served_posts is final. False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def reset_counters(self) -> None:
        with self._lock:
            self.served_posts.clear()
            self.requests.clear()
            self._calls.clear()

    def load_jsonl(self, path: str) -> int:
        """One JSON object per line: username, text, and any add_post keyword (id = post_id).

        The monitor's own JSONL format also loads (account for username; referenced_account is
        implied by the referenced post), so its sample can be served as is.
        """
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
        keys = {"created_at", "kind", "referenced_id", "urls", "lang"}
        # Posts that reference others load last, so what they reference usually exists.
        for row in sorted(rows, key=lambda r: r.get("referenced_id") is not None):
            extra: Json = {k: (str(v) if k == "referenced_id" else v) for k, v in row.items()
                     if k in keys and v is not None}
            ref = extra.get("referenced_id")
            if not ref or (extra.get("kind") == "retweet" and ref not in self._posts):
                extra.pop("kind", None)  # nothing known to point at: serve the text as it is
                extra.pop("referenced_id", None)
            post_id = row.get("id")
            self.add_post(row.get("username") or row["account"], row.get("text", ""),
                          post_id=str(post_id) if post_id is not None else None, **extra)
        return len(rows)

    # ---- rendering -------------------------------------------------------------------------
    def _render_user(self, user: _User, fields: set[str]) -> Json:
        tweets = sum(p.author_id == user.id for p in self._posts.values())
        full: Json = {
            "id": user.id, "name": user.name, "username": user.username,
            "protected": user.status == "protected", "created_at": iso(user.created_at),
            "description": "", "verified": False,
            "public_metrics": {"followers_count": 0, "following_count": 0,
                               "tweet_count": tweets, "listed_count": 0}}
        return {k: v for k, v in full.items() if k in DEFAULT_USER_FIELDS or k in fields}

    def _entities(self, post: _Post) -> Json:
        urls = [{"start": m.start(), "end": m.end(), "url": m.group(),
                 "expanded_url": post.urls[m.group()],
                 "display_url": _display(post.urls[m.group()])}
                for m in URL_RE.finditer(post.text) if m.group() in post.urls]
        tags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)}
                for m in HASHTAG_RE.finditer(post.text)]
        mentions = [{"start": m.start(), "end": m.end(), "username": m.group(1),
                     **({"id": uid} if (uid := self._by_name.get(m.group(1).lower())) else {})}
                    for m in MENTION_RE.finditer(post.text)]
        items = {"urls": urls, "hashtags": tags, "mentions": mentions}
        return {key: value for key, value in items.items() if value}  # X omits empty arrays

    def _render_post(self, post: _Post, fields: set[str]) -> Json:
        refs = [p.kind for p in self._posts.values() if p.referenced_id == post.id]
        first = self._posts[post.history[0]]
        full: Json = {
            "id": post.id, "text": post.text, "edit_history_tweet_ids": list(post.history),
            "created_at": iso(post.created_at), "author_id": post.author_id, "lang": post.lang,
            "conversation_id": post.conversation_id, "possibly_sensitive": False,
            "public_metrics": {
                "retweet_count": refs.count("retweet"), "reply_count": refs.count("reply"),
                "like_count": 0, "quote_count": refs.count("quote"), "bookmark_count": 0,
                "impression_count": 0},
            "edit_controls": {"edits_remaining": 6 - len(post.history), "is_edit_eligible": True,
                              "editable_until": iso(first.created_at + timedelta(hours=1))},
        }
        if entities := self._entities(post):
            full["entities"] = entities
        if post.referenced_id:
            kind = {"retweet": "retweeted", "quote": "quoted", "reply": "replied_to"}[post.kind]
            full["referenced_tweets"] = [{"type": kind, "id": post.referenced_id}]
        if post.in_reply_to_user_id:
            full["in_reply_to_user_id"] = post.in_reply_to_user_id
        return {k: v for k, v in full.items() if k in DEFAULT_TWEET_FIELDS or k in fields}

    # ---- endpoints -------------------------------------------------------------------------
    def _lookup(self, values: list[str], param: str, by_id: bool, fields: set[str]) -> Json:
        # X answers user lookups with 200 and an "errors" entry per missing/suspended user
        data, errors = [], []
        for value in values:
            user = self._users.get(value if by_id else self._by_name.get(value.lower(), ""))
            status = "deleted" if user is None else user.status
            if user is None or status in {"deleted", "suspended"}:
                errors.append(_user_error(status, value, param))
            else:
                data.append(self._render_user(user, fields))
        return {k: v for k, v in (("data", data), ("errors", errors)) if v}

    def _timeline(self, user_id: str, q: dict[str, str]) -> tuple[int, Json]:
        user = self._users.get(user_id)
        status = "deleted" if user is None else user.status
        if user is None or status in STATUS_ERRORS:
            err = _user_error(status, user_id, "id")
            code, _, _, kind = STATUS_ERRORS[status]
            return code, _problem(err["title"], err["detail"], code, [err], kind)
        size = q.get("max_results", "10")
        if not size.isdigit() or not 5 <= int(size) <= 100:
            return _invalid("max_results", size, "is not between 5 and 100")
        posts = sorted((p for p in self._posts.values()  # latest versions only, newest first
                        if p.author_id == user_id and p.history[-1] == p.id),
                       key=lambda p: int(p.id), reverse=True)[:TIMELINE_CAP]
        drop = {"retweets": "retweet", "replies": "reply"}
        dropped = {drop[e] for e in _csv(q.get("exclude")) if e in drop}
        posts = [p for p in posts if p.kind not in dropped]
        for name in ("since_id", "until_id", "start_time", "end_time"):
            try:
                posts = [p for p in posts if _within(p, name, q[name])] if name in q else posts
            except ValueError:
                return _invalid(name, q[name], "is not valid")
        if token := q.get("pagination_token"):
            try:  # the token encodes the oldest ID served, so new posts do not shift pages
                padded = token.upper() + "=" * (-len(token) % 8)
                cursor = int(base64.b32decode(padded).decode().removeprefix("c"))
            except (ValueError, binascii.Error):
                return _invalid("pagination_token", token, "is not valid")
            posts = [p for p in posts if int(p.id) < cursor]
        page, more = posts[: int(size)], len(posts) > int(size)
        if not page:
            return 200, {"meta": {"result_count": 0}}
        self.served_posts[user.username] = self.served_posts.get(user.username, 0) + len(page)
        tweet_fields = set(_csv(q.get("tweet.fields")))
        expansions = set(_csv(q.get("expansions")))
        meta: Json = {"result_count": len(page), "newest_id": page[0].id, "oldest_id": page[-1].id}
        if more:
            raw = base64.b32encode(f"c{page[-1].id}".encode()).decode()
            meta["next_token"] = raw.rstrip("=").lower()
        body: Json = {"data": [self._render_post(p, tweet_fields) for p in page], "meta": meta}
        refs = list({r.id: r for p in page if (r := self._posts.get(p.referenced_id or ""))}
                    .values())
        includes: Json = {}
        if "referenced_tweets.id" in expansions and refs:
            includes["tweets"] = [self._render_post(r, tweet_fields) for r in refs]
        authors = [user_id] if "author_id" in expansions else []
        if "referenced_tweets.id.author_id" in expansions:
            authors += [r.author_id for r in refs]
        if "in_reply_to_user_id" in expansions:
            authors += [p.in_reply_to_user_id for p in page if p.in_reply_to_user_id]
        if authors:
            user_fields = set(_csv(q.get("user.fields")))
            includes["users"] = [self._render_user(self._users[a], user_fields)
                                 for a in dict.fromkeys(authors)]
        if includes:
            body["includes"] = includes
        return 200, body

    def _dispatch(self, route: str, arg: str, q: dict[str, str]) -> tuple[int, Json]:
        fields = set(_csv(q.get("user.fields")))
        if route == "timeline":
            return self._timeline(arg, q)
        if route in {"user_by_username", "user_by_id"}:
            by_id = route == "user_by_id"
            body = self._lookup([arg], "id" if by_id else "username", by_id, fields)
            return 200, {"data": body["data"][0]} if "data" in body else body  # one object
        param = "usernames" if route == "users_by" else "ids"
        if not _csv(q.get(param)):
            return _invalid(param, q.get(param, ""), "can not be empty")
        return 200, self._lookup(_csv(q.get(param)), param, param == "ids", fields)

    # ---- request handling ------------------------------------------------------------------
    def _calls_in_window(self, endpoint: str) -> int:
        now = time.time()
        if now - self._window_start > RATE_WINDOW:
            self._window_start, self._calls = now, {}
        return self._calls.get(endpoint, 0)

    def _rate_headers(self, endpoint: str) -> dict[str, str]:
        self._calls[endpoint] = self._calls_in_window(endpoint) + 1
        return {"x-rate-limit-limit": str(self.rate_limit),
                "x-rate-limit-remaining": str(max(self.rate_limit - self._calls[endpoint], 0)),
                "x-rate-limit-reset": str(int(self._window_start + RATE_WINDOW))}

    def _take_fault(self, endpoint: str, accounts: set[str]) -> _Fault | None:
        for fault in self._faults:  # the first matching fault wins: they are consumed in order
            if fault.endpoint not in {"any", endpoint}:
                continue
            if fault.account is not None and fault.account.lower() not in accounts:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _record(self, path: str, q: dict[str, str], status: int, account: str | None,
                fault: str | None) -> None:
        # The Authorization header is deliberately never recorded: tests check secrets don't leak
        self.requests.append({"method": "GET", "path": path, "params": dict(q),
                              "status": status, "account": account, "fault": fault})

    def handle_request(self, method: str, target: str, authorization: str | None) -> Reply:
        """Answer one request; the HTTP handler only does I/O, so this is the whole behaviour."""
        with self._lock:
            self._in_flight += 1
        try:
            return self._answer(method, target, authorization)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _answer(self, method: str, target: str, authorization: str | None) -> Reply:
        split = urlsplit(target)
        path = unquote(split.path).rstrip("/")
        q = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        route, arg = next(((name, (m.groups() or ("",))[0]) for name, rx in ROUTES
                           if (m := rx.fullmatch(path))), ("", ""))
        with self._lock:
            endpoint = "timeline" if route == "timeline" else "users"
            # the accounts a request is about: for per-account faults and the request log
            ids = [arg] if route in {"timeline", "user_by_id"} else _csv(q.get("ids"))
            names = {self._users[i].username.lower() for i in ids if i in self._users}
            if route in {"users_by", "user_by_username"}:
                names |= {n.lower() for n in ([arg] if arg else _csv(q.get("usernames")))}
            account = next(iter(names)) if len(names) == 1 else None
            early, fault = None, None
            if authorization != f"Bearer {self.token}":  # checked first, as X does
                early = Reply(401, json.dumps(UNAUTHORIZED).encode())
            elif not route or method != "GET":
                early = Reply(404, json.dumps(_problem(
                    "Not Found Error", f"Sorry, that page does not exist: {path}", 404,
                    kind="resource-not-found")).encode())
            elif (fault := self._take_fault(endpoint, names)) and fault.kind != "slow":
                early = self._fault_reply(fault)
            if early is not None:
                self._record(path, q, early.status, account, fault.kind if fault else None)
                return early
        if fault is not None:
            time.sleep(fault.delay)  # outside the lock, so other requests keep flowing
        with self._lock:
            if self._calls_in_window(endpoint) >= self.rate_limit:
                self._record(path, q, 429, account, "limit")
                return Reply(429, json.dumps(_problem("Too Many Requests", "Too Many Requests",
                                                      429)).encode(), {
                    "x-rate-limit-limit": str(self.rate_limit), "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(self._window_start + RATE_WINDOW))})
            status, body = self._dispatch(route, arg, q)
            self._record(path, q, status, account, fault.kind if fault else None)
            return Reply(status, json.dumps(body).encode(), self._rate_headers(endpoint))

    def _fault_reply(self, fault: _Fault) -> Reply:
        if fault.kind == "429":
            reset = math.ceil(time.time() + fault.reset_in)
            body = _problem("Too Many Requests", "Too Many Requests", 429)
            return Reply(429, json.dumps(body).encode(), {
                "x-rate-limit-limit": str(RATE_LIMIT), "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset), **fault.headers})
        if fault.kind == "401":
            return Reply(401, json.dumps(UNAUTHORIZED).encode())
        if fault.kind == "malformed":  # a body cut mid-way, as flaky proxies deliver
            return Reply(200, b'{"data": [{"id": "1", "text": "truncat')
        title = "Internal Server Error" if fault.kind == "500" else "Service Unavailable"
        return Reply(int(fault.kind), json.dumps(_problem(title, title, int(fault.kind))).encode())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve an offline X API v2 emulator on loopback.")
    parser.add_argument("--port", type=int, default=8999)
    parser.add_argument("--token", default="test-bearer-token")
    parser.add_argument("--jsonl", help="posts to load, one JSON object per line")
    args = parser.parse_args(argv)
    emulator = XEmulator(token=args.token, port=args.port)
    if args.jsonl:
        emulator.load_jsonl(args.jsonl)
    else:  # something to look at when started by hand
        emulator.add_posts("demo", 25, start=datetime.now(UTC) - timedelta(days=3))
    # A shell that starts us in the background (`make test &`) hands down SIGINT ignored; the
    # script promises that Ctrl-C (or SIGINT from a test) stops it cleanly, so ask for it here.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    emulator.start()
    print(emulator.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
