"""The store: the only module that speaks SQL.

One `Store` wraps an engine (created from a URL, or passed in and then left open). Every write
method is one transaction: it either stores everything it was given or nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
from sqlalchemy import Engine, Select, create_engine, delete, event, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import StoreError
from monitor.models import Account, AccountSummary, Finding, Post, PostClass, PostKind
from monitor.store import migrate
from monitor.store.schema import (
    AccountRow,
    CalibrationRow,
    EmbeddingRow,
    FindingRow,
    IngestStateRow,
    KeyValueRow,
    PostRow,
)

_CHUNK = 500  # keeps IN (...) lists well under every backend's parameter limit


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def username_key(username: str) -> str:
    return username.strip().removeprefix("@").casefold()


@dataclass(frozen=True, slots=True)
class StoredPost:
    """A post with its database key (used to align vectors and findings)."""

    pk: int
    post: Post
    text_hash: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    inserted: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class StoredFinding:
    finding: Finding
    post: Post
    nearest: Post | None
    text_hash: str
    thresholds_key: str


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Repository over the monitor's database (SQLite file by default, or PostgreSQL)."""

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        self.engine = engine
        self._owns_engine = owns_engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        """Open (and by default create or upgrade) the database at `url`."""
        engine = create_store_engine(url)
        store = cls(engine, owns_engine=True)
        if upgrade:
            try:
                migrate.upgrade(engine)
            except StoreError:
                store.close()
                raise
        return store

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Store:
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

    # -- accounts ------------------------------------------------------------------------------

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

    def ensure_accounts(self, usernames: Iterable[str], platform: str = "x") -> None:
        with self.session() as s:
            for name in usernames:
                self._account_row(s, name, platform)

    def accounts(self) -> list[Account]:
        with self.session() as s:
            rows = s.scalars(select(AccountRow).order_by(AccountRow.username_key)).all()
            return [_account(r) for r in rows]

    def account(self, username: str, platform: str = "x") -> Account | None:
        with self.session() as s:
            row = self._account_row(s, username, platform, create=False)
            return _account(row) if row else None

    def account_summaries(self) -> list[AccountSummary]:
        with self.session() as s:
            stats = s.execute(
                select(PostRow.account_id, func.count(PostRow.id),
                       func.max(PostRow.created_at), func.min(PostRow.created_at))
                .group_by(PostRow.account_id)).all()
            by_id = {a: (n, newest, oldest) for a, n, newest, oldest in stats}
            states = {st.account_id: st for st in s.scalars(select(IngestStateRow)).all()}
            out = []
            for row in s.scalars(select(AccountRow).order_by(AccountRow.username_key)).all():
                n, newest, oldest = by_id.get(row.id, (0, None, None))
                newest = _aware(newest)
                oldest = _aware(oldest)
                state = states.get(row.id)
                out.append(AccountSummary(
                    platform=row.platform, username=row.username, posts=int(n), newest=newest,
                    oldest=oldest, user_id=row.user_id, status=row.status,
                    since_id=state.since_id if state else None,
                    status_detail=row.status_detail))
            return out

    # -- posts ---------------------------------------------------------------------------------

    def import_posts(self, posts: Iterable[Post], *, source: str,
                     session: Session | None = None) -> ImportResult:
        """Insert new posts and update changed ones (an edit), in one transaction.

        Idempotent: importing the same posts again changes nothing. A newer version of a post
        (different text) replaces the stored one; its vectors are then stale and re-embedded.
        """
        if session is None:
            with self.session() as s:
                return self.import_posts(posts, source=source, session=s)
        s = session
        items = list(posts)
        inserted = updated = unchanged = 0
        accounts: dict[tuple[str, str], AccountRow] = {}
        # Last occurrence wins, so a file holding two versions of a post keeps the later one.
        latest: dict[tuple[str, str], Post] = {}
        for p in items:
            latest[(p.platform, p.post_id)] = p
        keys = list(latest)
        # An edited post has a new id; its earlier versions (edit history) name the same row.
        earlier = {(p.platform, old): key for key, p in latest.items()
                   for old in p.edit_history if old != p.post_id}
        existing: dict[tuple[str, str], PostRow] = {}
        for platform in {k[0] for k in [*keys, *earlier]}:
            ids = [k[1] for k in [*keys, *earlier] if k[0] == platform]
            for chunk in _chunks(ids):
                for row in s.scalars(select(PostRow).where(
                        PostRow.platform == platform, PostRow.post_id.in_(chunk))):
                    existing[(platform, row.post_id)] = row
        for old_key, new_key in earlier.items():
            old_row = existing.pop(old_key, None)
            if old_row is None:
                continue
            if new_key in existing:  # both versions stored: keep the newer, drop the older
                s.delete(old_row)
                continue
            old_row.post_id = new_key[1]
            existing[new_key] = old_row
        # A version older than one already stored (e.g. an old archive after an edit) is stale.
        stored_newer = {(row.platform, old) for row in existing.values()
                        for old in (row.edit_history or ()) if old != row.post_id}
        for key in [k for k in latest if k in stored_newer and k not in existing]:
            del latest[key]
            unchanged += 1
        now = _now()
        new_rows: list[dict[str, Any]] = []
        for key, p in latest.items():
            acct_key = (p.platform, username_key(p.account))
            if acct_key not in accounts:
                row_acct = self._account_row(s, p.account, p.platform)
                assert row_acct is not None
                accounts[acct_key] = row_acct
            acct = accounts[acct_key]
            h = text_hash(p.text)
            values = _post_values(p)
            current = existing.get(key)
            if current is None:
                new_rows.append({"platform": p.platform, "post_id": p.post_id,
                                 "account_id": acct.id, "text_hash": h, "source": source,
                                 "ingested_at": now, **values})
                inserted += 1
            elif (current.text_hash != h or _changed(current, values)
                  or current.account_id != acct.id
                  or current.post_id != p.post_id):
                current.post_id = p.post_id
                for name, value in values.items():
                    setattr(current, name, value)
                current.text_hash = h
                current.account_id = acct.id
                updated += 1
            else:
                unchanged += 1
        s.flush()
        if new_rows:  # one executemany: an ORM object per post is the slow part of an import
            s.execute(insert(PostRow), new_rows)
        return ImportResult(inserted, updated, unchanged)

    def count_posts(self, account: str | None = None) -> int:
        with self.session() as s:
            q = select(func.count(PostRow.id))
            if account is not None:
                q = q.join(AccountRow).where(AccountRow.id.in_(self._account_ids(s, [account])))
            return int(s.scalar(q) or 0)

    def posts(self, accounts: Iterable[str] | None = None, *, since: datetime | None = None,
              until: datetime | None = None, after_pk: int | None = None) -> list[StoredPost]:
        """Posts of the given accounts (all if None), oldest first, within [since, until);
        `after_pk` keeps only posts stored after that key (new since a previous run)."""
        with self.session() as s:
            q = select(*PostRow.__table__.c, AccountRow.username).join(AccountRow)
            if after_pk is not None:
                q = q.where(PostRow.id > after_pk)
            if accounts is not None:
                keys = [username_key(a) for a in accounts]
                q = q.where(AccountRow.id.in_(self._account_ids(s, keys)))
            if since is not None:
                q = q.where(PostRow.created_at >= since)
            if until is not None:
                q = q.where(PostRow.created_at < until)
            q = q.order_by(PostRow.created_at, PostRow.id)
            return [StoredPost(row.id, _post(row, username), row.text_hash)
                    for row, username in _plain_rows(s, q)]

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

    def count_posts_of(self, accounts: Iterable[str]) -> int:
        keys = [username_key(a) for a in accounts]
        with self.session() as s:
            return int(s.scalar(select(func.count(PostRow.id)).join(AccountRow)
                                .where(AccountRow.id.in_(self._account_ids(s, keys)))) or 0)

    def max_post_pk(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.max(PostRow.id))) or 0)

    def posts_needing_findings(self, pair: str, model: str, accounts: Iterable[str],
                               thresholds_key: str) -> list[StoredPost]:
        """Executive posts with no finding for (pair, model), or one computed for another
        version of the text or other thresholds."""
        keys = [username_key(a) for a in accounts]
        with self.session() as s:
            q = (select(PostRow, AccountRow.username).join(AccountRow)
                 .outerjoin(FindingRow, (FindingRow.post_pk == PostRow.id)
                            & (FindingRow.pair == pair) & (FindingRow.model == model))
                 .where(AccountRow.id.in_(self._account_ids(s, keys)))
                 .where((FindingRow.post_pk.is_(None))
                        | (FindingRow.text_hash != PostRow.text_hash)
                        | (FindingRow.thresholds_key != thresholds_key))
                 .order_by(PostRow.created_at, PostRow.id))
            return [StoredPost(row.id, _post(row, username), row.text_hash)
                    for row, username in s.execute(q)]

    def time_range(self, accounts: Iterable[str]) -> tuple[datetime | None, datetime | None]:
        keys = [username_key(a) for a in accounts]
        with self.session() as s:
            lo, hi = s.execute(select(func.min(PostRow.created_at), func.max(PostRow.created_at))
                               .join(AccountRow)
                               .where(AccountRow.id.in_(self._account_ids(s, keys)))).one()
            return _aware(lo), _aware(hi)

    # -- embeddings ----------------------------------------------------------------------------

    def posts_missing_vectors(self, model: str,
                              accounts: Iterable[str] | None = None) -> list[StoredPost]:
        """Posts with no vector for `model`, or whose text changed since it was computed."""
        with self.session() as s:
            q = (select(PostRow, AccountRow.username).join(AccountRow)
                 .outerjoin(EmbeddingRow, (EmbeddingRow.post_pk == PostRow.id)
                            & (EmbeddingRow.model == model))
                 .where((EmbeddingRow.post_pk.is_(None))
                        | (EmbeddingRow.text_hash != PostRow.text_hash)))
            if accounts is not None:
                q = q.where(AccountRow.id.in_(self._account_ids(s, accounts)))
            q = q.order_by(PostRow.id)
            return [StoredPost(row.id, _post(row, username), row.text_hash)
                    for row, username in s.execute(q)]

    def save_vectors(self, model: str, items: Sequence[tuple[int, str, np.ndarray]]) -> None:
        """Store float32 vectors for (post pk, text hash) in one transaction."""
        with self.session() as s:
            pks = [pk for pk, _, _ in items]
            for chunk in _chunks(pks):
                s.execute(delete(EmbeddingRow).where(EmbeddingRow.model == model,
                                                     EmbeddingRow.post_pk.in_(chunk)))
            if items:  # one executemany, not an ORM object per vector
                s.execute(insert(EmbeddingRow), [
                    {"post_pk": pk, "model": model, "text_hash": h, "dim": int(vec.shape[0]),
                     "vector": np.asarray(vec, dtype=np.float32).tobytes()}
                    for pk, h, vec in items])

    def load_vectors(self, model: str, pks: Sequence[int]) -> np.ndarray:
        """Vectors for `pks` in that order, as a float32 matrix; raises if any is missing."""
        found: dict[int, bytes] = {}
        dim = 0
        with self.session() as s:
            for chunk in _chunks(list(pks), 2000):
                for pk, d, blob in s.execute(select(EmbeddingRow.post_pk, EmbeddingRow.dim,
                                                    EmbeddingRow.vector)
                                             .where(EmbeddingRow.model == model,
                                                    EmbeddingRow.post_pk.in_(chunk))):
                    found[pk] = blob
                    dim = d
        missing = [pk for pk in pks if pk not in found]
        if missing:
            raise StoreError(f"{len(missing)} posts have no vector for model {model!r}; run "
                             "`monitor analyse` to compute them.")
        if not pks:
            return np.zeros((0, dim), dtype=np.float32)
        return np.frombuffer(b"".join(found[pk] for pk in pks), dtype=np.float32).reshape(
            len(pks), dim)

    def count_vectors(self, model: str | None = None) -> int:
        with self.session() as s:
            q = select(func.count()).select_from(EmbeddingRow)
            if model is not None:
                q = q.where(EmbeddingRow.model == model)
            return int(s.scalar(q) or 0)

    # -- findings ------------------------------------------------------------------------------

    def finding_keys(self, pair: str, model: str) -> dict[int, tuple[str, str]]:
        """post pk -> (text hash, thresholds key) of the stored findings of a pair."""
        with self.session() as s:
            rows = s.execute(select(FindingRow.post_pk, FindingRow.text_hash,
                                    FindingRow.thresholds_key)
                             .where(FindingRow.pair == pair, FindingRow.model == model))
            return {pk: (h, k) for pk, h, k in rows}

    def save_findings(self, pair: str, model: str,
                      items: Sequence[tuple[int, str, str, Finding]]) -> None:
        """Replace the findings of (pair, model) for the given posts: (pk, text hash,
        thresholds key, finding)."""
        now = _now()
        with self.session() as s:
            pks = [pk for pk, _, _, _ in items]
            for chunk in _chunks(pks):
                s.execute(delete(FindingRow).where(FindingRow.pair == pair,
                                                   FindingRow.model == model,
                                                   FindingRow.post_pk.in_(chunk)))
            if items:  # one executemany, not an ORM object per finding
                s.execute(insert(FindingRow), [dict(
                    pair=pair, model=model, post_pk=pk, created_at=f.created_at,
                    post_class=f.post_class.value, reason=f.reason, similarity=f.similarity,
                    lexical=f.lexical, nearest_post_id=f.nearest_id,
                    line_similarity=f.line_similarity, offlimits_topic=f.offlimits_topic,
                    offlimits_similarity=f.offlimits_similarity,
                    shared_terms=list(f.shared_terms), text_hash=h, thresholds_key=key,
                    analysed_at=now) for pk, h, key, f in items])

    def findings(self, pair: str, model: str, *, since: datetime | None = None,
                 until: datetime | None = None) -> list[StoredFinding]:
        """Stored findings of a pair, oldest first, with their posts and nearest posts."""
        # Plain column rows, not ORM objects: a year of findings loads several times faster.
        fcols = [c.label(f"f_{c.name}") for c in FindingRow.__table__.c]
        with self.session() as s:
            q = (select(*fcols, *PostRow.__table__.c, AccountRow.username.label("username"))
                 .join(PostRow, PostRow.id == FindingRow.post_pk).join(AccountRow)
                 .where(FindingRow.pair == pair, FindingRow.model == model))
            if since is not None:
                q = q.where(FindingRow.created_at >= since)
            if until is not None:
                q = q.where(FindingRow.created_at < until)
            q = q.order_by(FindingRow.created_at, FindingRow.post_pk)
            rows = []
            for r in s.execute(q):
                m = r._mapping
                f = SimpleNamespace(**{c.name: m[f"f_{c.name}"]
                                       for c in FindingRow.__table__.c})
                p = SimpleNamespace(**{c.name: m[c] for c in PostRow.__table__.c})
                rows.append((f, p, m["username"]))
        nearest = self.posts_by_ids([f.nearest_post_id for f, _, _ in rows if f.nearest_post_id])
        out = []
        for f, p, username in rows:
            post = _post(p, username)  # type: ignore[arg-type]
            near = nearest.get(f.nearest_post_id) if f.nearest_post_id else None
            out.append(StoredFinding(
                finding=Finding(
                    post_id=p.post_id, account=username, created_at=_aware(f.created_at)
                    or post.created_at, post_class=PostClass(f.post_class), reason=f.reason,
                    similarity=f.similarity, lexical=f.lexical, nearest_id=f.nearest_post_id,
                    nearest_account=near.account if near else None,
                    line_similarity=f.line_similarity, offlimits_topic=f.offlimits_topic,
                    offlimits_similarity=f.offlimits_similarity,
                    shared_terms=tuple(f.shared_terms or ())),
                post=post, nearest=near, text_hash=f.text_hash,
                thresholds_key=f.thresholds_key))
        return out

    def delete_findings(self, pair: str, model: str, keep_pks: Iterable[int]) -> int:
        """Drop findings of posts no longer in the pair (e.g. an account left it)."""
        keep = set(keep_pks)
        with self.session() as s:
            pks = [pk for pk in s.scalars(select(FindingRow.post_pk).where(
                FindingRow.pair == pair, FindingRow.model == model)) if pk not in keep]
            for chunk in _chunks(pks):
                s.execute(delete(FindingRow).where(FindingRow.pair == pair,
                                                   FindingRow.model == model,
                                                   FindingRow.post_pk.in_(chunk)))
            return len(pks)

    # -- calibration and small facts -----------------------------------------------------------

    def save_calibration(self, pair: str, model: str, values: dict[str, Any]) -> None:
        with self.session() as s:
            row = s.get(CalibrationRow, (pair, model))
            if row is None:
                s.add(CalibrationRow(pair=pair, model=model, computed_at=_now(), values=values))
            else:
                row.values = values
                row.computed_at = _now()

    def calibration(self, pair: str, model: str) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.get(CalibrationRow, (pair, model))
            return dict(row.values) if row else None

    def get_value(self, key: str) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.get(KeyValueRow, key)
            return dict(row.value) if row else None

    def set_value(self, key: str, value: dict[str, Any]) -> None:
        with self.session() as s:
            row = s.get(KeyValueRow, key)
            if row is None:
                s.add(KeyValueRow(key=key, value=value, updated_at=_now()))
            else:
                row.value = value
                row.updated_at = _now()


# -- helpers ---------------------------------------------------------------------------------

def create_store_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"database url {url!r} is not a valid SQLAlchemy URL; use e.g. "
                         "sqlite:///monitor.db or postgresql+psycopg://user@host/db "
                         "([database] url or MONITOR_DATABASE_URL).") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:
        raise StoreError(f"cannot use database {parsed.render_as_string(hide_password=True)}: "
                         f"{exc}. Is its driver installed (pip install "
                         "'exec-voice-monitor[postgres]')?") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def _plain_rows(session: Session, query: Select[Any]) -> Iterator[tuple[Any, str]]:
    """(post columns as attributes, username) from a select of PostRow's columns + username:
    plain rows, several times faster than ORM objects for thousands of posts."""
    names = [c.name for c in PostRow.__table__.c]
    for row in session.execute(query):
        values = tuple(row)
        yield SimpleNamespace(**dict(zip(names, values[:-1], strict=True))), values[-1]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _post_values(p: Post) -> dict[str, Any]:
    return {
        "author_id": p.author_id, "created_at": p.created_at, "text": p.text, "lang": p.lang,
        "kind": p.kind.value, "referenced_ids": list(p.referenced_ids),
        "referenced_accounts": list(p.referenced_accounts), "urls": list(p.urls),
        "hashtags": list(p.hashtags), "mentions": list(p.mentions),
        "edit_history": list(p.edit_history),
    }


def _changed(row: PostRow, values: dict[str, Any]) -> bool:
    for name, value in values.items():
        current = getattr(row, name)
        if name == "created_at":
            if _aware(current) != value:
                return True
        elif current != value:
            return True
    return False


def _post(row: PostRow, username: str) -> Post:
    return Post(
        post_id=row.post_id, account=username, created_at=_aware(row.created_at)
        or datetime.min.replace(tzinfo=UTC), text=row.text, platform=row.platform, lang=row.lang,
        kind=PostKind(row.kind), referenced_ids=tuple(row.referenced_ids or ()),
        referenced_accounts=tuple(row.referenced_accounts or ()), urls=tuple(row.urls or ()),
        hashtags=tuple(row.hashtags or ()), mentions=tuple(row.mentions or ()),
        edit_history=tuple(row.edit_history or ()), author_id=row.author_id)


def _account(row: AccountRow) -> Account:
    return Account(username=row.username, platform=row.platform, user_id=row.user_id,
                   display_name=row.display_name, status=row.status,
                   status_detail=row.status_detail)
