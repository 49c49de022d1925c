"""The X API v2 source: the only module that imports tweepy.

A thin layer over `tweepy.Client`: resolve usernames to user ids, fetch one timeline page at a
time, and turn X's JSON into `Post`s. Every HTTP failure becomes one of the errors below, whose
message says what failed, on which account, and what to do. Retries (5xx, timeouts) and
rate-limit waits happen here with an injected `sleep` and `clock`, so tests never really wait.

The bearer token lives only in the session adapter, which adds it to each request as it leaves:
tweepy logs request headers at DEBUG level, so it must never hold the real token.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import tweepy
from pydantic import SecretStr
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from monitor.errors import (
    AccessDenied,
    AccountUnavailable,
    AuthError,
    MalformedResponse,
    RateLimited,
    SourceError,
    TemporaryFailure,
)
from monitor.ingest.rate_limits import (
    MAX_RESET_AHEAD_S,
    RESET_UNKNOWN_WAIT_S,
)
from monitor.ingest.rate_limits import (
    reset_at as _reset_at,
)
from monitor.ingest.rate_limits import (
    sanitise_rate_headers as _sanitise_rate_headers,
)
from monitor.ingest.x_posts import TimelinePage, parse_page

log = logging.getLogger(__name__)

# tweepy 4.17 hard-codes api.twitter.com; later versions may move to api.x.com: rebase both.
X_HOSTS = ("https://api.twitter.com", "https://api.x.com")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
PAGE_SIZE = 100  # X's maximum for user timelines
LOOKUP_BATCH = 100  # X's maximum usernames per user lookup
TWEET_FIELDS = ["created_at", "lang", "entities", "referenced_tweets", "conversation_id",
                "edit_history_tweet_ids", "public_metrics", "author_id"]
# author_id brings the timeline owner's current username: renames are seen at no extra request.
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
USER_FIELDS = ["username", "protected"]
BACKOFF_CAP_S = 60.0
TOKEN_PLACEHOLDER = "[added-when-sent]"  # what tweepy sees (and logs) instead of the token
TOKEN_HELP = ("Check X_BEARER_TOKEN: copy the Bearer Token of your app again from the X "
              "developer portal (Projects & Apps > your app > Keys and tokens), set it in the "
              "environment or the .env file beside the config, and run again.")


@dataclass(frozen=True, slots=True)
class XUser:
    user_id: str
    username: str
    name: str | None
    protected: bool


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A username X did not resolve, with the account status that explains why."""

    username: str
    status: str
    detail: str


@dataclass(frozen=True, slots=True)
class UserLookup:
    users: tuple[XUser, ...]
    unresolved: tuple[Unresolved, ...]


class _XAdapter(HTTPAdapter):
    """Rebases X URLs onto `base_url`, adds the token, and enforces the timeout on every call."""

    def __init__(self, base_url: str, token: SecretStr, timeout_s: float) -> None:
        super().__init__()
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout_s
        self.limits: dict[str, tuple[int, float]] = {}  # endpoint -> (remaining, reset time)

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: float | tuple[float | None, float | None] | None = None,
             verify: bool | str = True, cert: str | tuple[str, str] | None = None,
             proxies: Mapping[str, str] | None = None) -> requests.Response:
        url = request.url or ""
        for host in X_HOSTS:
            if url.startswith(host + "/"):
                request.url = self._base + url[len(host):]
                break
        request.headers["Authorization"] = "Bearer " + self._token.get_secret_value()
        # The session's proxies were chosen for api.twitter.com: choose again for the real
        # destination, and never send loopback traffic (the emulator) through a proxy.
        target = request.url or ""
        host = urlsplit(target).hostname or ""
        chosen = {} if host in LOOPBACK else get_environ_proxies(target)
        response = super().send(request, stream, self._timeout, verify, cert, chosen)
        _sanitise_rate_headers(response)
        self._note_limits(urlsplit(target).path, response)
        return response

    def _note_limits(self, path: str, response: requests.Response) -> None:
        """Remember the app's remaining budget per endpoint: X's limits are per app, so one
        account's exhausted window is every account's."""
        remaining = response.headers.get("x-rate-limit-remaining")
        reset = response.headers.get("x-rate-limit-reset")
        if remaining is None or reset is None:
            return
        # A garbled header only costs us the early stop; X still answers 429.
        with contextlib.suppress(ValueError):
            self.limits[_endpoint(path)] = (int(remaining), float(reset))


class XSource:
    """Reads user ids and timelines from the X API v2 through tweepy."""

    def __init__(self, token: SecretStr, *, base_url: str, timeout_s: float,
                 max_rate_limit_wait_s: float, max_retries: int,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, backoff_s: float = 1.0) -> None:
        self._client = tweepy.Client(bearer_token=TOKEN_PLACEHOLDER, return_type=dict,
                                     wait_on_rate_limit=False)
        adapter = _XAdapter(base_url, token, timeout_s)
        self._adapter = adapter
        for host in X_HOSTS:
            self._client.session.mount(host + "/", adapter)
        self._client.session.trust_env = False  # no .netrc credentials; proxies see adapter
        self._base_url = base_url
        self._timeout = timeout_s
        self._max_wait = max_rate_limit_wait_s
        self._max_retries = max_retries
        self._sleep, self._clock, self._backoff = sleep, clock, backoff_s

    def close(self) -> None:
        self._client.session.close()

    # -- users ---------------------------------------------------------------------------------

    def lookup_usernames(self, usernames: Sequence[str]) -> UserLookup:
        """Resolve usernames to users; those X cannot serve come back with their status."""
        users: list[XUser] = []
        unresolved: list[Unresolved] = []
        for start in range(0, len(usernames), LOOKUP_BATCH):
            batch = list(usernames[start:start + LOOKUP_BATCH])
            label = batch[0] if len(batch) == 1 else f"{batch[0]} (+{len(batch) - 1} more)"
            try:
                body = self._call(label, "user lookup", self._client.get_users,
                                  usernames=batch, user_fields=USER_FIELDS)
            except AccountUnavailable as exc:
                raise SourceError(f"X refused the user lookup for @{label} ({exc.detail}). "
                                  "Check the usernames in the [[pairs]] tables.") from None
            found: dict[str, XUser] = {}
            try:
                for item in body.get("data") or []:
                    user = XUser(str(item["id"]), str(item["username"]), item.get("name"),
                                 bool(item.get("protected", False)))
                    found[user.username.casefold()] = user
                errors = {str(e.get("value", "")).casefold(): e
                          for e in body.get("errors") or [] if isinstance(e, dict)}
            except (KeyError, TypeError, AttributeError) as exc:
                raise MalformedResponse(f"the X API answered the user lookup for @{label} "
                                        f"with a malformed body ({type(exc).__name__}: {exc}); "
                                        "nothing was changed. Run again later.") from None
            for name in batch:
                key = name.casefold()
                if key in found:
                    users.append(found[key])
                    continue
                error = errors.get(key, {})
                unresolved.append(Unresolved(name, _lookup_status(error),
                                             str(error.get("detail") or "X returned no user")))
        return UserLookup(tuple(users), tuple(unresolved))

    # -- timelines -----------------------------------------------------------------------------

    def timeline_page(self, user_id: str, *, account: str, since_id: str | None = None,
                      until_id: str | None = None, start_time: datetime | None = None,
                      pagination_token: str | None = None,
                      max_results: int = PAGE_SIZE) -> TimelinePage:
        """One page of @account's posts, newest first, within the given bounds."""
        timed_out = [0]
        body = self._call(account, "timeline", self._client.get_users_tweets, id=user_id,
                          max_results=max_results, since_id=since_id, until_id=until_id,
                          start_time=start_time, pagination_token=pagination_token,
                          tweet_fields=TWEET_FIELDS, expansions=EXPANSIONS,
                          user_fields=["username"], _timed_out=timed_out,
                          _page_size=max_results)
        try:
            page = parse_page(body, account)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise MalformedResponse(
                f"the X API sent a malformed timeline page for @{account} ({type(exc).__name__}: "
                f"{str(exc)[:200]}); nothing from that page was stored. Run again later.") from None
        # X bills every post it serves, also to a request we gave up on (a read timeout): the
        # retry asked for the same page, so each timed-out attempt cost what the answer holds.
        return replace(page, reads=page.reads * (1 + timed_out[0])) if timed_out[0] else page

    # -- the one place requests are made ---------------------------------------------------------

    def _call(self, account: str, what: str, fn: Callable[..., Any], *,
              _timed_out: list[int] | None = None, _page_size: int = 0,
              **params: Any) -> dict[str, Any]:
        """Call `fn` with retries and rate-limit waits. `_timed_out[0]` counts the read
        timeouts before the answer (X may have served and billed each of them)."""
        retries = 0
        waited = 0.0
        timeouts = _timed_out if _timed_out is not None else [0]
        endpoint = "timeline" if what == "timeline" else "users"
        while True:
            remaining, reset_at = self._adapter.limits.get(endpoint, (1, 0.0))
            now = self._clock()
            if reset_at > now + MAX_RESET_AHEAD_S:  # implausible: a window of unknown end
                reset_at = now + RESET_UNKNOWN_WAIT_S
            if remaining <= 0 and reset_at > now:
                # The app's window is spent (by this account or another): do not spend a request
                # to be told so; wait for the reset if allowed, else leave it to the next run.
                wait = reset_at + 1.0 - now
                if waited + wait > self._max_wait:
                    raise RateLimited(account, reset_at, self._max_wait)
                log.warning("X API rate limit of the app spent for %s requests; waiting %.0f s "
                            "before the %s of @%s", endpoint, wait, what, account)
                self._sleep(wait)
                waited += wait
                self._adapter.limits.pop(endpoint, None)
            try:
                body = fn(**params)
            except tweepy.Unauthorized:
                raise AuthError(f"the X API refused the bearer token (HTTP 401 Unauthorized) "
                                f"on the {what} of @{account}. {TOKEN_HELP}") from None
            except tweepy.TooManyRequests as exc:
                now = self._clock()
                reset = _reset_at(exc.response, now)
                wait = max(reset + 1.0 - now, 0.0)  # +1 s: the reset second itself is still out
                if waited + wait > self._max_wait:
                    raise RateLimited(account, reset, self._max_wait) from None
                log.warning("X API rate limit reached on the %s of @%s; waiting %.0f s for "
                            "the reset", what, account, wait)
                self._sleep(wait)
                waited += wait
                self._adapter.limits.pop(endpoint, None)  # waited out: the window is new
                continue
            except (tweepy.Forbidden, tweepy.NotFound) as exc:
                raise _unavailable(account, what, exc) from None
            except tweepy.TwitterServerError as exc:
                problem = f"server error (HTTP {exc.response.status_code})"
            except requests.exceptions.JSONDecodeError:
                raise MalformedResponse(
                    f"the X API answered the {what} of @{account} with a body that is not "
                    "valid JSON (cut off or garbled); nothing from it was stored. Run again "
                    "later; if it persists, check any proxy between this machine and X.") from None
            except requests.exceptions.Timeout as exc:
                problem = f"no answer within [x] timeout_s ({self._timeout:g} s)"
                if not isinstance(exc, requests.exceptions.ConnectTimeout):
                    timeouts[0] += 1  # the request reached X, which may have served it
            except requests.exceptions.RequestException as exc:
                problem = (f"cannot connect to {self._base_url} ({type(exc).__name__}; "
                           "check [x] api_base_url or MONITOR_X_API_BASE_URL and the network)")
            except tweepy.HTTPException as exc:
                detail = "; ".join(exc.api_messages) or str(exc.response.reason)
                raise SourceError(f"the X API rejected the {what} of @{account} (HTTP "
                                  f"{exc.response.status_code}: {detail}). This is a bug or an "
                                  "API change; please report it.") from None
            else:
                if not isinstance(body, dict):
                    raise MalformedResponse(f"the X API answered the {what} of @{account} "
                                            "with JSON that is not an object; nothing stored.")
                return body
            if retries >= self._max_retries:
                raise TemporaryFailure(
                    f"the X API {what} of @{account} failed: {problem}, after {retries} "
                    f"retries ([x] max_retries). What was saved is kept; the next run "
                    "resumes from there.", billed=timeouts[0] * _page_size)
            delay = min(self._backoff * 2 ** retries, BACKOFF_CAP_S)
            retries += 1
            log.warning("X API %s of @%s: %s; retry %d of %d in %.1f s", what, account, problem,
                        retries, self._max_retries, delay)
            self._sleep(delay)


def _endpoint(path: str) -> str:
    return "timeline" if path.rstrip("/").endswith("/tweets") else "users"


# -- mapping X's answers ---------------------------------------------------------------------------

def _unavailable(account: str, what: str, exc: tweepy.HTTPException) -> SourceError:
    """403/404 -> why the account cannot be read; an app-level 403 stops the whole run."""
    try:
        body = exc.response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    errors = [e for e in exc.api_errors if isinstance(e, dict)] or [body]
    first = errors[0]
    detail = str(first.get("detail") or first.get("message") or body.get("detail")
                 or exc.response.reason)
    kind = str(first.get("type") or body.get("type") or "")
    if body.get("reason") == "client-not-enrolled" or kind.endswith("client-forbidden"):
        return AccessDenied(f"the X API refused the {what} of @{account} for this app "
                            f"({detail}). Attach the app to a Project with an access level that "
                            "includes user timelines in the X developer portal.")
    status_code = exc.response.status_code
    title = str(first.get("title") or "")
    if status_code == 404:
        status = "deleted" if what == "timeline" else "not found"
    elif "suspend" in detail.lower() or title == "Forbidden":
        status = "suspended"
    elif "not authorized" in detail.lower() or title == "Authorization Error":
        status = "protected"
    else:
        status = "unavailable"
    return AccountUnavailable(account, status, detail)


def _lookup_status(error: Mapping[str, Any]) -> str:
    detail = str(error.get("detail") or "").lower()
    title = str(error.get("title") or "")
    if "suspend" in detail or title == "Forbidden":
        return "suspended"
    if "not authorized" in detail or title == "Authorization Error":
        return "protected"
    return "not found"
