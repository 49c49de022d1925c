"""Accounts and posts: idempotent imports, and the posts of a period (the store's core)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, null, select
from sqlalchemy.orm import Session

from monitor.models import Account, AccountSummary, Post
from monitor.store.base import StoreBase, stored_posts
from monitor.store.rows import (
    POST_COLUMNS,
    ImportResult,
    StoredPost,
    account_of,
    aware,
    changed,
    chunked,
    post_values,
    text_hash,
    username_key,
    utc_now,
)
from monitor.store.schema import AccountRow, FindingRow, IngestStateRow, PostRow


class PostsRepository(StoreBase):
    """Accounts and their posts."""

    # -- accounts ------------------------------------------------------------------------------

    def ensure_accounts(self, usernames: Iterable[str], platform: str = "x") -> None:
        with self.session() as s:
            for name in usernames:
                self._account_row(s, name, platform)

    def accounts(self) -> list[Account]:
        with self.session() as s:
            rows = s.scalars(select(AccountRow).order_by(AccountRow.username_key)).all()
            return [account_of(r) for r in rows]

    def account(self, username: str, platform: str = "x") -> Account | None:
        with self.session() as s:
            row = self._account_row(s, username, platform, create=False)
            return account_of(row) if row else None

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
                newest = aware(newest)
                oldest = aware(oldest)
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
            for chunk in chunked(ids):
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
        now = utc_now()
        new_rows: list[dict[str, Any]] = []
        for key, p in latest.items():
            acct_key = (p.platform, username_key(p.account))
            if acct_key not in accounts:
                row_acct = self._account_row(s, p.account, p.platform)
                assert row_acct is not None
                accounts[acct_key] = row_acct
            acct = accounts[acct_key]
            h = text_hash(p.text)
            values = post_values(p)
            current = existing.get(key)
            if current is None:
                new_rows.append({"platform": p.platform, "post_id": p.post_id,
                                 "account_id": acct.id, "text_hash": h, "source": source,
                                 "ingested_at": now, **values})
                inserted += 1
            elif (current.text_hash != h or changed(current, values)
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
        names = tuple(dict.fromkeys(p.account for p in items))
        return ImportResult(inserted, updated, unchanged, names)

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
            q = (select(*POST_COLUMNS, AccountRow.username).join(AccountRow)
                 .where(self.sane_dates(PostRow.created_at)))
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
            return stored_posts(s, q)

    def post_moments(self, accounts: Iterable[str], *, since: datetime, until: datetime,
                     findings_of: tuple[str, str] | None = None,
                     ) -> list[tuple[int, datetime, str, int | None]]:
        """(pk, created_at, text, substance) of the accounts' posts in [since, until), oldest
        first: what the drift test reads, without building whole posts. `substance` is the
        one stored with the post's finding of `findings_of` (pair, model) for its current
        text (None without one): the caller need not recount the words of every post."""
        keys = [username_key(a) for a in accounts]
        with self.session() as s:
            stored = FindingRow.substance if findings_of is not None else null()
            q = (select(PostRow.id, PostRow.created_at, PostRow.text, stored).join(AccountRow)
                 .where(AccountRow.id.in_(self._account_ids(s, keys)),
                        self.sane_dates(PostRow.created_at), PostRow.created_at >= since,
                        PostRow.created_at < until)
                 .order_by(PostRow.created_at, PostRow.id))
            if findings_of is not None:
                pair, model = findings_of
                q = q.outerjoin(FindingRow, (FindingRow.post_pk == PostRow.id)
                                & (FindingRow.pair == pair) & (FindingRow.model == model)
                                & (FindingRow.text_hash == PostRow.text_hash))
            return [(pk, at, text, sub)
                    for pk, at, text, sub in s.connection().execute(q).all()]

    def recent_texts(self, accounts: Iterable[str], limit: int) -> list[tuple[str, str | None]]:
        """(text, lang) of the accounts' newest posts: what their languages are told from."""
        keys = [username_key(a) for a in accounts]
        with self.session() as s:
            q = (select(PostRow.text, PostRow.lang).join(AccountRow)
                 .where(self.sane_dates(PostRow.created_at),
                        AccountRow.id.in_(self._account_ids(s, keys)))
                 .order_by(PostRow.created_at.desc()).limit(limit))
            return [(text, lang) for text, lang in s.execute(q)]

    def count_posts_of(self, accounts: Iterable[str]) -> int:
        keys = [username_key(a) for a in accounts]
        with self.session() as s:
            return int(s.scalar(select(func.count(PostRow.id)).join(AccountRow)
                                .where(AccountRow.id.in_(self._account_ids(s, keys)),
                                       self.sane_dates(PostRow.created_at))) or 0)

    def max_post_pk(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.max(PostRow.id))) or 0)

    def posts_needing_findings(self, pair: str, model: str, accounts: Iterable[str],
                               thresholds_key: str) -> list[StoredPost]:
        """Executive posts with no finding for (pair, model), or one computed for another
        version of the text or other thresholds."""
        keys = [username_key(a) for a in accounts]
        with self.session() as s:
            q = (select(*POST_COLUMNS, AccountRow.username).join(AccountRow)
                 .outerjoin(FindingRow, (FindingRow.post_pk == PostRow.id)
                            & (FindingRow.pair == pair) & (FindingRow.model == model))
                 .where(AccountRow.id.in_(self._account_ids(s, keys)),
                        self.sane_dates(PostRow.created_at))
                 .where((FindingRow.post_pk.is_(None))
                        | (FindingRow.text_hash != PostRow.text_hash)
                        | (FindingRow.thresholds_key != thresholds_key))
                 .order_by(PostRow.created_at, PostRow.id))
            return stored_posts(s, q)

    def time_range(self, accounts: Iterable[str]) -> tuple[datetime | None, datetime | None]:
        keys = [username_key(a) for a in accounts]
        with self.session() as s:
            lo, hi = s.execute(select(func.min(PostRow.created_at), func.max(PostRow.created_at))
                               .join(AccountRow)
                               .where(AccountRow.id.in_(self._account_ids(s, keys)),
                                      self.sane_dates(PostRow.created_at))).one()
            return aware(lo), aware(hi)
