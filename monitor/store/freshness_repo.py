"""SQL for what the monitor knows about its own state: which posts wait for analysis, when
posts were last imported, collected and analysed (read-only queries)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from monitor.store.base import StoreBase, stored_posts
from monitor.store.rows import POST_COLUMNS, StoredPost, aware, username_key
from monitor.store.schema import AccountRow, FindingRow, IngestStateRow, PostRow


@dataclass(frozen=True)
class AccountFreshness:
    username: str
    posts: int
    newest: datetime | None
    last_collected: datetime | None
    status: str


class FreshnessRepository(StoreBase):
    """What the monitor knows of its own state: posts waiting for analysis, the newest post and
    last collection of each account, the last import and analysis (read-only)."""

    def account_freshness(self, usernames: Iterable[str]) -> dict[str, AccountFreshness]:
        """Per configured username (as given): its posts, newest post and last X API run."""
        names = list(dict.fromkeys(usernames))
        out: dict[str, AccountFreshness] = {}
        with self.session() as s:
            for name in names:
                ids = self._account_ids(s, [name])
                if not ids:
                    out[name] = AccountFreshness(name, 0, None, None, "unknown")
                    continue
                n, newest = s.execute(select(func.count(PostRow.id), func.max(PostRow.created_at))
                                      .where(PostRow.account_id.in_(ids))).one()
                last_run = s.scalar(select(func.max(IngestStateRow.last_run_at))
                                    .where(IngestStateRow.account_id.in_(ids)))
                status = s.scalar(select(AccountRow.status).where(AccountRow.id == ids[0]))
                out[name] = AccountFreshness(name, int(n), aware(newest), aware(last_run),
                                         status or "active")
        return out

    def unanalysed_posts(self, pair: str, model: str, accounts: Iterable[str], *,
                         since: datetime | None = None,
                         until: datetime | None = None) -> list[StoredPost]:
        """Executive posts with no finding of (pair, model) for their current text."""
        keys = [username_key(a) for a in accounts]
        with self.session() as s:
            q = (select(*POST_COLUMNS, AccountRow.username).join(AccountRow)
                 .outerjoin(FindingRow, (FindingRow.post_pk == PostRow.id)
                            & (FindingRow.pair == pair) & (FindingRow.model == model))
                 .where(AccountRow.id.in_(self._account_ids(s, keys)))
                 .where((FindingRow.post_pk.is_(None))
                        | (FindingRow.text_hash != PostRow.text_hash)))
            if since is not None:
                q = q.where(PostRow.created_at >= since)
            if until is not None:
                q = q.where(PostRow.created_at < until)
            return stored_posts(s, q.order_by(PostRow.created_at, PostRow.id))

    def last_analysis_at(self, pair: str, model: str) -> datetime | None:
        with self.session() as s:
            return aware(s.scalar(select(func.max(FindingRow.analysed_at)).where(
                FindingRow.pair == pair, FindingRow.model == model)))

    def last_import_at(self, accounts: Iterable[str]) -> datetime | None:
        """When a post of these accounts was last stored (import or collection)."""
        keys = [username_key(a) for a in accounts]
        with self.session() as s:
            return aware(s.scalar(select(func.max(PostRow.ingested_at)).where(
                PostRow.account_id.in_(self._account_ids(s, keys)))))
