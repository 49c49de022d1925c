"""The store's foundation: engine, transactions and account look-ups."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Self

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import StoreError
from monitor.models import Post
from monitor.store.rows import _chunks, _now, _post, username_key
from monitor.store.schema import AccountRow, PostRow


class StoreBase:
    """Engine and transactions; what every part of the repository builds on."""

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        self.engine = engine
        self._owns_engine = owns_engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

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

    def _account_row(self, session: Session, username: str, platform: str = "x",
                     *, create: bool = True) -> AccountRow | None:
        key = username_key(username)
        row = session.scalar(select(AccountRow).where(
            AccountRow.platform == platform, AccountRow.username_key == key))
        if row is None and create:
            row = AccountRow(platform=platform, username=username.strip().removeprefix("@"),
                             username_key=key, status="active", previous_usernames=[],
                             updated_at=_now())
            session.add(row)
            session.flush()
        return row

    def _account_ids(self, session: Session, usernames: Iterable[str]) -> list[int]:
        """Ids of the accounts known by these usernames, now or before a rename (the config
        may still name an account by its old username)."""
        wanted = {username_key(u) for u in usernames}
        found = dict(session.execute(select(AccountRow.username_key, AccountRow.id)
                                     .where(AccountRow.username_key.in_(wanted))).all())
        ids = list(found.values())
        missing = wanted - set(found)
        if missing:  # rare: look through the rename history only for names not found
            for row in session.execute(select(AccountRow.id, AccountRow.previous_usernames)):
                if {username_key(u) for u in (row.previous_usernames or [])} & missing:
                    ids.append(row.id)
        return ids

    def posts_by_ids(self, post_ids: Iterable[str], platform: str = "x") -> dict[str, Post]:
        ids = list(dict.fromkeys(post_ids))
        out: dict[str, Post] = {}
        with self.session() as s:
            for chunk in _chunks(ids):
                q = (select(PostRow, AccountRow.username).join(AccountRow)
                     .where(PostRow.platform == platform, PostRow.post_id.in_(chunk)))
                for row, username in s.execute(q):
                    out[row.post_id] = _post(row, username)
        return out
