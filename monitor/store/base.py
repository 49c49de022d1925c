"""The store's foundation: engine, transactions and account look-ups."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Self

from sqlalchemy import ColumnElement, Engine, Executable, and_, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import StoreError
from monitor.limits import FIRST_POST_TIME, latest_post_time
from monitor.models import Post
from monitor.store.rows import (
    POST_COLUMNS,
    StoredPost,
    aware,
    chunked,
    post_from,
    username_key,
    utc_now,
)
from monitor.store.schema import AccountRow, PostRow

log = logging.getLogger(__name__)


class StoreBase:
    """Engine and transactions; what every part of the repository builds on."""

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        self.engine = engine
        self._owns_engine = owns_engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._dates_checked = False
        # Account ids by the usernames a query names: looked up before nearly every query, and
        # accounts change rarely. Only complete answers are kept (a username not found yet is
        # asked again), and any account this store creates or renames clears it.
        self._ids_by_names: dict[frozenset[str], list[int]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._sessions() as session:
            try:
                with session.begin():
                    yield session
            except SQLAlchemyError as exc:
                raise StoreError(f"database error on {self.engine.url!r}: "
                                 f"{type(exc).__name__}: {exc.args[0] if exc.args else exc}. "
                                 "Nothing from this step was saved.") from exc

    # -- impossible dates ------------------------------------------------------------------------

    def sane_dates(self, column: Any) -> ColumnElement[bool]:
        """A WHERE clause keeping rows dated between X's launch and tomorrow. Posts are checked
        at import; rows stored before that check (9999-12-31, year 1) would make every
        analysis, report and digest of their pair fail, so they are ignored, with a warning
        the first time this store meets them."""
        low, high = FIRST_POST_TIME, latest_post_time()
        if not self._dates_checked:
            self._dates_checked = True
            self._warn_impossible_dates(low, high)
        return and_(column >= low, column <= high)

    def _warn_impossible_dates(self, low: datetime, high: datetime) -> None:
        with self.session() as s:
            outside = or_(PostRow.created_at < low, PostRow.created_at > high)
            count = int(s.scalar(select(func.count(PostRow.id)).where(outside)) or 0)
            if not count:
                return
            sample = s.execute(select(PostRow.post_id, AccountRow.username, PostRow.created_at)
                               .join(AccountRow).where(outside).limit(1)).first()
        example = ""
        if sample is not None:
            when = aware(sample[2])
            example = (f", e.g. post {sample[0]} of @{sample[1]} dated "
                       f"{when:%Y-%m-%d}" if when else "")
        log.warning("%d stored post(s) carry impossible dates (before %s or more than a day "
                    "ahead%s); analysis, reports and digests ignore them. Delete them, or "
                    "re-import them with their right dates.", count,
                    f"{low:%Y-%m-%d}", example)

    def impossible_dates(self) -> int:
        """How many stored posts are ignored for their dates (for `monitor status`)."""
        low, high = FIRST_POST_TIME, latest_post_time()
        with self.session() as s:
            return int(s.scalar(select(func.count(PostRow.id)).where(
                or_(PostRow.created_at < low, PostRow.created_at > high))) or 0)

    def _account_row(self, session: Session, username: str, platform: str = "x",
                     *, create: bool = True) -> AccountRow | None:
        key = username_key(username)
        row = session.scalar(select(AccountRow).where(
            AccountRow.platform == platform, AccountRow.username_key == key))
        if row is None and create:
            row = AccountRow(platform=platform, username=username.strip().removeprefix("@"),
                             username_key=key, status="active", previous_usernames=[],
                             updated_at=utc_now())
            session.add(row)
            session.flush()
            self.accounts_changed()
        return row

    def accounts_changed(self) -> None:
        """Forget the account ids looked up so far (an account was created or renamed)."""
        self._ids_by_names.clear()

    def _account_ids(self, session: Session, usernames: Iterable[str]) -> list[int]:
        """Ids of the accounts known by these usernames, now or before a rename (the config
        may still name an account by its old username)."""
        wanted = frozenset(username_key(u) for u in usernames)
        cached = self._ids_by_names.get(wanted)
        if cached is not None:
            return list(cached)
        found = dict(session.execute(select(AccountRow.username_key, AccountRow.id)
                                     .where(AccountRow.username_key.in_(wanted))).all())
        ids = list(found.values())
        missing = wanted - set(found)
        named: set[str] = set()
        if missing:  # rare: look through the rename history only for names not found
            for row in session.execute(select(AccountRow.id, AccountRow.previous_usernames)):
                before = {username_key(u) for u in (row.previous_usernames or [])} & missing
                if before:
                    ids.append(row.id)
                    named |= before
        if missing <= named:
            self._ids_by_names[wanted] = list(ids)
        return ids

    def posts_by_ids(self, post_ids: Iterable[str], platform: str = "x") -> dict[str, Post]:
        ids = list(dict.fromkeys(post_ids))
        out: dict[str, Post] = {}
        with self.session() as s:
            for chunk in chunked(ids):
                q = (select(*POST_COLUMNS, AccountRow.username).join(AccountRow)
                     .where(PostRow.platform == platform, PostRow.post_id.in_(chunk)))
                for sp in stored_posts(s, q):
                    out[sp.post.post_id] = sp.post
        return out


def stored_posts(session: Session, query: Executable) -> list[StoredPost]:
    """The posts of a select of POST_COLUMNS + the account's username. Executed as a Core
    statement on the session's connection: the rows come back as plain tuples, without the
    ORM's result machinery (a year's report reads some 15,000 posts)."""
    return [StoredPost(row[0], post_from(row, row[-1]), row[1])
            for row in session.connection().execute(query).all()]
