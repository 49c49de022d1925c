"""The SQL of X API collection (`IngestRepository`, part of the `Store`): account ids and
renames, ingest state, monthly read counts.

Each page of a timeline is saved by `save_page` in one transaction: its posts, the progress of
the run (or the new since_id when the run is over) and the reads X bills for it. A crash between
pages therefore leaves a state the next run resumes from, with no gap and nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor.limits import TIMELINE_CAP
from monitor.models import Post
from monitor.store.posts_repo import PostsRepository
from monitor.store.rows import ImportResult, aware, username_key, utc_now
from monitor.store.schema import AccountRow, IngestStateRow, PostRow, ReadCountRow

log = logging.getLogger(__name__)
PLATFORM = "x"


@dataclass(frozen=True, slots=True)
class AccountState:
    """An account as the collector needs it: identity, status and where ingestion stands."""

    account_id: int
    username: str
    user_id: str | None
    status: str
    previous_usernames: tuple[str, ...]
    since_id: str | None
    run_newest_id: str | None = None
    run_until_id: str | None = None
    run_floor_id: str | None = None
    run_start_time: datetime | None = None
    last_run_at: datetime | None = None
    last_error: str | None = None
    run_served: int = 0  # posts X served to the run in progress so far
    cap: TimelineCap | None = None

    @property
    def run_in_progress(self) -> bool:
        """A backfill or catch-up stopped between pages and must be finished first."""
        return self.run_until_id is not None


@dataclass(frozen=True, slots=True)
class RunCursor:
    """How far an unfinished multi-page run got: saved with each page it covers."""

    newest_id: str | None  # newest post id seen by this run (the next since_id)
    until_id: str  # oldest post id stored so far: the run continues below it
    floor_id: str | None  # the since_id the run started from
    start_time: datetime | None  # the backfill horizon, when there was no since_id


@dataclass(frozen=True, slots=True)
class TimelineCap:
    """A run that reached X's cap of the newest posts of a timeline: posts older than
    `oldest_served` (back to `horizon`, when the run had one) were not served."""

    reached_at: datetime
    oldest_served: datetime | None
    horizon: datetime | None


def cap_note(cap: TimelineCap) -> str:
    """What hitting X's timeline cap means, in words (the run's line and `monitor status`)."""
    older = f"{cap.oldest_served:%Y-%m-%d %H:%M} UTC" if cap.oldest_served else "the oldest one"
    back = f" (back to {cap.horizon:%Y-%m-%d})" if cap.horizon else " (since the run before)"
    return (f"X's cap reached: X serves only the newest {TIMELINE_CAP:,} posts of a "
            f"timeline, so posts older than {older}{back} were not collected; import the "
            "account's X archive (monitor ingest --from-archive) to fill the gap")


@dataclass(frozen=True, slots=True)
class MonthReads:
    username: str
    posts_read: int
    requests: int


class IngestRepository(PostsRepository):
    """Accounts' X identity and renames, where each timeline's collection stands, reads."""

    def account_state(self, username: str) -> AccountState:
        """The account known by `username` (its current or a previous name), created if new."""
        with self.session() as s:
            # The store's own look-up: current names first, then names before a rename.
            ids = self._account_ids(s, [username])
            row = s.get(AccountRow, ids[0]) if ids else self._account_row(s, username)
            assert row is not None
            return _state(s, row)

    def load_state(self, account_id: int) -> AccountState:
        with self.session() as s:
            return _state(s, _get(s, account_id))

    def resolve_account(self, account_id: int, *, user_id: str, username: str,
                        display_name: str | None) -> AccountState:
        """Store the X user id of an account. If another row already holds that id, it is the same
        person under an older name: keep that row (it has the history) and fold this one into it."""
        with self.session() as s:
            row = _get(s, account_id)
            holder = s.scalar(select(AccountRow).where(
                AccountRow.platform == PLATFORM, AccountRow.user_id == user_id,
                AccountRow.id != row.id))
            if holder is not None:
                _fold_into(s, row, holder)
                row = holder
            row.user_id = user_id
            row.display_name = display_name
            row = rename(s, row, username)
            row.status, row.status_detail = "active", None
            state = _state(s, row)
        self.accounts_changed()  # ids may have been folded together, names changed
        return state

    def set_status(self, account_id: int, status: str, detail: str | None, *,
                   now: datetime, error: str | None = None) -> None:
        """Record why X cannot serve an account (suspended, protected, deleted, not found)."""
        with self.session() as s:
            row = _get(s, account_id)
            row.status, row.status_detail, row.updated_at = status, detail, now
            state = _state_row(s, account_id)
            state.last_error = error
            state.last_run_at = now

    def record_error(self, account_id: int, message: str, *, now: datetime,
                     reads: int = 0, month: str | None = None) -> None:
        """Keep the last failure of an account (its ingest progress is left as committed), and
        the reads X billed for requests that got no usable answer (timed out)."""
        with self.session() as s:
            state = _state_row(s, account_id)
            state.last_error = message
            state.last_run_at = now
            if reads and month:
                add_reads(s, account_id, month, posts=reads, requests=0)

    def save_page(self, account_id: int, posts: Sequence[Post], *, reads: int, month: str,
                  now: datetime, cursor: RunCursor | None, since_id: str | None,
                  owner_username: str | None = None, served: int = 0,
                  cap: TimelineCap | None = None) -> ImportResult:
        """Store one timeline page and what it means for the account, in ONE transaction.

        `cursor` set: the run goes on below `cursor.until_id`, having been served `served` posts
        so far. `cursor` None: the run reached its end, so since_id becomes `since_id` and the run
        fields are cleared; `cap` records that the run hit X's timeline cap. `reads` is what X
        bills for the page (posts served, re-reads after timeouts included).
        """
        with self.session() as s:
            row = _get(s, account_id)
            if owner_username:
                row = rename(s, row, owner_username)
                self.accounts_changed()
            row.status, row.status_detail = "active", None  # X served the timeline
            # Posts belong to this row whatever name they carry (a rename, X's capitalisation).
            result = self.import_posts([replace(p, account=row.username) for p in posts],
                                        source="x_api", session=s)
            state = _state_row(s, account_id)
            if cursor is None:
                state.since_id = since_id
                state.run_newest_id = state.run_until_id = state.run_floor_id = None
                state.run_start_time = None
                state.run_served = None
                state.last_error = None
                if cap is not None:
                    state.cap_reached_at = cap.reached_at
                    state.cap_oldest_at = cap.oldest_served
                    state.cap_horizon_at = cap.horizon
            else:
                state.run_newest_id = cursor.newest_id
                state.run_until_id = cursor.until_id
                state.run_floor_id = cursor.floor_id
                state.run_start_time = cursor.start_time
                state.run_served = served
            state.last_run_at = now
            add_reads(s, account_id, month, posts=reads, requests=1)
            return result

    def month_reads(self, month: str) -> list[MonthReads]:
        """Posts read and requests made per account in `month` ("YYYY-MM", UTC)."""
        with self.session() as s:
            rows = s.execute(select(AccountRow.username, ReadCountRow.posts_read,
                                    ReadCountRow.requests)
                             .join(AccountRow, AccountRow.id == ReadCountRow.account_id)
                             .where(ReadCountRow.month == month)
                             .order_by(AccountRow.username_key)).all()
            return [MonthReads(name, int(n), int(r)) for name, n, r in rows]

    def timeline_caps(self) -> dict[str, TimelineCap]:
        """Accounts whose collection hit X's timeline cap, by username (for `monitor status`)."""
        with self.session() as s:
            rows = s.execute(select(AccountRow.username, IngestStateRow.cap_reached_at,
                                    IngestStateRow.cap_oldest_at, IngestStateRow.cap_horizon_at)
                             .join(IngestStateRow, IngestStateRow.account_id == AccountRow.id)
                             .where(IngestStateRow.cap_reached_at.is_not(None))).all()
            return {name: TimelineCap(aware(at) or utc_now(), aware(oldest), aware(horizon))
                    for name, at, oldest, horizon in rows}

    def total_reads(self, month: str) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.coalesce(func.sum(ReadCountRow.posts_read), 0))
                                .where(ReadCountRow.month == month)) or 0)


# -- accounts ---------------------------------------------------------------------------------


def rename(s: Session, row: AccountRow, username: str) -> AccountRow:
    """X says this user id is now `username`: take the new name, keep the old one on record."""
    key = username_key(username)
    if key == row.username_key:
        row.username = username  # X's capitalisation
        return row
    other = s.scalar(select(AccountRow).where(AccountRow.platform == PLATFORM,
                                              AccountRow.username_key == key))
    if other is not None:
        if other.user_id not in (None, row.user_id):
            log.warning("@%s (X user %s) is now called @%s, but the store holds another X "
                        "user under that name; keeping the old name until that one is "
                        "refreshed", row.username, row.user_id, username)
            return row
        _fold_into(s, other, row)  # a placeholder for the new name (e.g. from `monitor init`)
    log.warning("@%s is now @%s on X (same user id %s); renamed in the store. Update the "
                "[[pairs]] tables to the new name.", row.username, username, row.user_id)
    row.previous_usernames = list(dict.fromkeys([*(row.previous_usernames or []),
                                                 row.username]))
    row.username, row.username_key, row.updated_at = username, key, utc_now()
    s.flush()
    return row


# -- one page ---------------------------------------------------------------------------------


# -- reads (what X bills) -----------------------------------------------------------------------

def add_reads(s: Session, account_id: int, month: str, *, posts: int, requests: int) -> None:
    row = s.get(ReadCountRow, (account_id, month))
    if row is None:
        s.add(ReadCountRow(account_id=account_id, month=month, posts_read=posts,
                           requests=requests))
    else:
        row.posts_read += posts
        row.requests += requests


# -- helpers ------------------------------------------------------------------------------------

def _get(s: Session, account_id: int) -> AccountRow:
    row = s.get(AccountRow, account_id)
    if row is None:  # only if someone deleted it mid-run
        raise LookupError(f"account {account_id} vanished from the store")
    return row


def _fold_into(s: Session, placeholder: AccountRow, keep: AccountRow) -> None:
    """Move a duplicate row's posts onto the row that keeps the identity, then drop it."""
    s.execute(update(PostRow).where(PostRow.account_id == placeholder.id)
              .values(account_id=keep.id))
    s.delete(placeholder)
    s.flush()


def _state_row(s: Session, account_id: int) -> IngestStateRow:
    state = s.get(IngestStateRow, account_id)
    if state is None:
        state = IngestStateRow(account_id=account_id)
        s.add(state)
        s.flush()
    return state


def _state(s: Session, row: AccountRow) -> AccountState:
    st = s.get(IngestStateRow, row.id)
    return AccountState(
        account_id=row.id, username=row.username, user_id=row.user_id, status=row.status,
        previous_usernames=tuple(row.previous_usernames or ()),
        since_id=st.since_id if st else None,
        run_newest_id=st.run_newest_id if st else None,
        run_until_id=st.run_until_id if st else None,
        run_floor_id=st.run_floor_id if st else None,
        run_start_time=aware(st.run_start_time) if st else None,
        last_run_at=aware(st.last_run_at) if st else None,
        last_error=st.last_error if st else None,
        run_served=(st.run_served or 0) if st else 0,
        cap=TimelineCap(aware(st.cap_reached_at) or utc_now(), aware(st.cap_oldest_at),
                        aware(st.cap_horizon_at)) if st and st.cap_reached_at else None)

