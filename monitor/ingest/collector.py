"""Collect the configured accounts' posts from the X API into the store, resumably.

Per account: resolve the user id once, then read the timeline newest first, page by page. The
first run goes back `[x] backfill_days`; later runs ask only for posts newer than since_id.

Resumability: each page is saved in one transaction with the run's progress (`RunCursor`: the
newest id seen, the oldest id stored so far, the since_id or horizon the run started from), and
the last page of a run moves since_id to the newest id seen. since_id therefore only ever
advances together with the posts it covers. A run that finds a cursor left by an interrupted run
(crash, kill, rate limit, error, read cap) first finishes that one below the oldest stored id,
then runs normally from the new since_id: no gap, and nothing read twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from monitor.config import MonitorConfig, PairConfig
from monitor.errors import (
    AccessDenied,
    AccountUnavailable,
    AuthError,
    CollectionFailed,
    ConfigError,
    RateLimited,
    SourceError,
    TemporaryFailure,
    UsageError,
)
from monitor.ingest.x_api import (
    PAGE_SIZE,
    TimelinePage,
    UserLookup,
    XSource,
)
from monitor.limits import TIMELINE_CAP
from monitor.store import Store
from monitor.store.ingest_repo import AccountState, RunCursor, TimelineCap, cap_note

log = logging.getLogger(__name__)
MIN_PAGE = 5  # X refuses max_results below 5


class Source(Protocol):
    """What the collector needs from X (XSource; tests may wrap it)."""

    def lookup_usernames(self, usernames: Sequence[str]) -> UserLookup: ...

    def timeline_page(self, user_id: str, *, account: str, since_id: str | None = None,
                      until_id: str | None = None, start_time: datetime | None = None,
                      pagination_token: str | None = None,
                      max_results: int = PAGE_SIZE) -> TimelinePage: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class AccountResult:
    """What one run did for one account. outcome: ok, skipped (X cannot serve it), deferred
    (rate limit beyond the wait bound), paused (read cap) or failed."""

    username: str
    outcome: str
    new_posts: int = 0
    updated_posts: int = 0
    pages: int = 0
    reads: int = 0
    message: str = ""
    cap: TimelineCap | None = None  # this run hit X's cap of the newest 3,200 posts

    def line(self) -> str:
        counts = (f"{_n(self.new_posts, 'new post')}, {self.updated_posts} updated, "
                  f"{_n(self.pages, 'page')}, {_n(self.reads, 'read')}")
        cap = f"; {cap_note(self.cap)}" if self.cap else ""
        if self.outcome == "ok":
            return f"@{self.username}: {counts}{cap}"
        return f"@{self.username}: {self.outcome} ({counts}){cap}: {self.message}"


@dataclass(frozen=True, slots=True)
class CollectionReport:
    accounts: tuple[AccountResult, ...]
    paused: bool = False

    @property
    def failed(self) -> tuple[AccountResult, ...]:
        return tuple(a for a in self.accounts if a.outcome == "failed")

    @property
    def reads(self) -> int:
        return sum(a.reads for a in self.accounts)


def run_collection(cfg: MonitorConfig, store: Store, pairs: Sequence[PairConfig], *,
                   echo: Callable[[str], None] = log.info, source: Source | None = None,
                   sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.time) -> CollectionReport:
    """Collect every account of `pairs` once; raise CollectionFailed if any account failed.

    `sleep` and `clock` (epoch seconds) drive rate-limit waits, backoff, the backfill horizon and
    the month reads are counted in; tests pass their own.
    """
    names = list(dict.fromkeys(a for p in pairs for a in p.accounts))
    if not names:
        raise UsageError("no accounts to collect: add a [[pairs]] table with executive and "
                         "corporate usernames to the configuration")
    own = source is None
    if source is None:
        token = cfg.secrets.x_bearer_token
        if token is None:
            raise ConfigError("X_BEARER_TOKEN is not set: collecting from the X API needs the "
                              "Bearer Token of your X developer app. Set it in the environment "
                              "or in a .env file beside the config (see README, 'X API').")
        source = XSource(token, base_url=cfg.x_api_base_url(), timeout_s=cfg.x.timeout_s,
                         max_rate_limit_wait_s=cfg.x.max_rate_limit_wait_s,
                         max_retries=cfg.x.max_retries, sleep=sleep, clock=clock)
    try:
        report = _Collector(cfg, store, source, echo, clock).run(names)
    finally:
        if own:
            source.close()
    if report.failed:
        raise CollectionFailed([(a.username, a.message) for a in report.failed],
                               len(report.accounts), report)
    return report


class _Collector:
    def __init__(self, cfg: MonitorConfig, store: Store, source: Source,
                 echo: Callable[[str], None], clock: Callable[[], float]) -> None:
        self.cfg, self.store, self.source, self.echo, self.clock = cfg, store, source, echo, clock
        self.paused = False

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def run(self, names: Sequence[str]) -> CollectionReport:
        states: dict[int, AccountState] = {}
        for name in names:  # two config names may be one account (a recorded rename)
            st = self.store.account_state(name)
            states.setdefault(st.account_id, st)
        results: dict[int, AccountResult] = {}
        self._resolve([st for st in states.values() if st.user_id is None], states, results)
        for account_id, st in list(states.items()):
            if account_id in results or st.user_id is None:
                continue
            result = self._account(st)
            results[account_id] = result
            self.echo(result.line())
        return CollectionReport(tuple(results.values()), self.paused)

    # -- ids ------------------------------------------------------------------------------------

    def _resolve(self, todo: list[AccountState], states: dict[int, AccountState],
                 results: dict[int, AccountResult]) -> None:
        """Usernames -> user ids, once per account (later runs go by id: renames do not
        break collection)."""
        if not todo:
            return
        try:
            lookup = self.source.lookup_usernames([st.username for st in todo])
        except (AuthError, AccessDenied):
            raise
        except SourceError as exc:
            outcome = "deferred" if isinstance(exc, RateLimited) else "failed"
            for st in todo:
                self.store.record_error(st.account_id, str(exc), now=self.now())
                results[st.account_id] = AccountResult(st.username, outcome, message=str(exc))
                self.echo(results[st.account_id].line())
            return
        by_name = {st.username.casefold(): st for st in todo}
        for user in lookup.users:
            st = by_name[user.username.casefold()]
            resolved = self.store.resolve_account(st.account_id, user_id=user.user_id,
                                          username=user.username, display_name=user.name)
            # Keep the config's order; a row folded into an older one takes that one's place.
            order = [resolved.account_id if k == st.account_id else k for k in states]
            merged = {**states, resolved.account_id: resolved}
            states.clear()
            states.update({k: merged[k] for k in dict.fromkeys(order)})
        for miss in lookup.unresolved:
            st = by_name[miss.username.casefold()]
            note = (f"@{st.username} is {miss.status} on X ({miss.detail}); skipped. Check the "
                    "username in the [[pairs]] tables.")
            self.store.set_status(st.account_id, miss.status, miss.detail, now=self.now(),
                          error=note)
            results[st.account_id] = AccountResult(st.username, "skipped", message=note)
            self.echo(results[st.account_id].line())

    # -- one account ------------------------------------------------------------------------------

    def _account(self, st: AccountState) -> AccountResult:
        tally = _Tally()
        try:
            if st.run_in_progress:  # finish the interrupted run first...
                st = self._pass(st, tally, resume=True)
            if not self.paused:  # ...then collect what is new since
                self._pass(st, tally, resume=False)
        except (AuthError, AccessDenied) as exc:  # the whole run stops: the CLI says it once
            self.store.record_error(st.account_id, str(exc), now=self.now())
            raise
        except AccountUnavailable as exc:
            self.store.set_status(st.account_id, exc.status, exc.detail, now=self.now(),
                          error=str(exc))
            return tally.result(st.username, "skipped", str(exc))
        except RateLimited as exc:
            self.store.record_error(st.account_id, str(exc), now=self.now())
            return tally.result(st.username, "deferred", str(exc))
        except SourceError as exc:  # retries exhausted, malformed answer, bad request
            billed = exc.billed if isinstance(exc, TemporaryFailure) else 0
            tally.reads += billed  # X bills what it served to the requests that timed out
            self.store.record_error(st.account_id, str(exc), now=self.now(), reads=billed,
                            month=self.now().strftime("%Y-%m"))
            return tally.result(st.username, "failed", str(exc))
        except Exception as exc:  # a bug or an answer nothing expected: this account only
            log.exception("collection of @%s failed unexpectedly", st.username)
            message = (f"unexpected {type(exc).__name__} while collecting @{st.username} (a "
                       "bug: please report it, with the log); the other accounts go on")
            self.store.record_error(st.account_id, message, now=self.now())
            return tally.result(st.username, "failed", message)
        if self.paused:
            return tally.result(st.username, "paused",
                                "monthly read cap reached; resumes when the cap allows")
        return tally.result(st.username, "ok")

    def _pass(self, st: AccountState, tally: _Tally, *, resume: bool) -> AccountState:
        """One run over a range of the timeline, page by page, each page saved with its
        progress. Returns the account's state afterwards."""
        assert st.user_id is not None
        if resume:
            assert st.run_until_id is not None
            floor, start = st.run_floor_id, st.run_start_time
            until: str | None = st.run_until_id
            newest = st.run_newest_id
        else:
            floor, until, newest = st.since_id, None, None
            start = None if floor else self.now() - timedelta(days=self.cfg.x.backfill_days)
        lowest = until  # the oldest post id stored by this run so far
        served = st.run_served if resume else 0  # posts X served to this run, all pages
        token: str | None = None
        while True:
            size = self._page_size()
            if size == 0:
                return st
            page = self.source.timeline_page(
                st.user_id, account=st.username, since_id=floor, until_id=until,
                start_time=start, pagination_token=token, max_results=size)
            newest = _max_id(newest, page.newest_id)
            lowest = _min_id(lowest, page.oldest_id)
            # No post seen yet means nothing to resume: starting over is the same run.
            cursor = (RunCursor(newest_id=newest, until_id=lowest, floor_id=floor,
                                start_time=start)
                      if page.next_token and lowest else None)
            served += len(page.posts)
            cap = self._cap(lowest, start, page) if cursor is None and served >= \
                TIMELINE_CAP else None
            result = self.store.save_page(st.account_id, page.posts, reads=page.reads,
                month=self.now().strftime("%Y-%m"), now=self.now(), cursor=cursor,
                since_id=newest or floor, owner_username=page.owner_username, served=served,
                cap=cap)
            tally.add(page, result.inserted, result.updated)
            if cap is not None:
                tally.cap = cap
                log.warning("@%s: %s", st.username, cap_note(cap))
            st = self.store.load_state(st.account_id)
            if not page.next_token:
                return st
            token = page.next_token

    def _cap(self, lowest: str | None, start: datetime | None,
             page: TimelinePage) -> TimelineCap:
        """The run was served X's cap of posts: X stops there, whatever the horizon."""
        oldest = min((p.created_at for p in page.posts), default=None)
        if lowest is not None:
            stored = self.store.posts_by_ids([lowest]).get(lowest)
            oldest = stored.created_at if stored else oldest
        return TimelineCap(reached_at=self.now(), oldest_served=oldest, horizon=start)

    def _page_size(self) -> int:
        """Posts to ask for: a full page, fewer near the monthly read cap, 0 once it is hit."""
        cap = self.cfg.x.monthly_read_cap
        if cap is None:
            return PAGE_SIZE
        month = self.now().strftime("%Y-%m")
        remaining = cap - self.store.total_reads(month)
        if remaining > 0:
            return min(PAGE_SIZE, max(MIN_PAGE, remaining))
        if not self.paused:
            self.paused = True
            message = (f"X API read cap reached: {cap - remaining:,} of {cap:,} posts read in "
                       f"{month} ([x] monthly_read_cap). Ingestion is paused until next month; "
                       "raise the cap to resume now. Interrupted runs resume where they stopped.")
            log.warning("%s", message)
            self.echo(f"Warning: {message}")
        return 0


class _Tally:
    def __init__(self) -> None:
        self.new = self.updated = self.pages = self.reads = 0
        self.cap: TimelineCap | None = None

    def add(self, page: TimelinePage, inserted: int, updated: int) -> None:
        self.new += inserted
        self.updated += updated
        self.pages += 1
        self.reads += page.reads

    def result(self, username: str, outcome: str, message: str = "") -> AccountResult:
        return AccountResult(username, outcome, self.new, self.updated, self.pages, self.reads,
                             message, self.cap)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _max_id(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if int(a) >= int(b) else b


def _min_id(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if int(a) <= int(b) else b
