"""SQL for what the monitor knows about its own state: which posts wait for analysis, when
posts were last imported, collected and analysed (read-only queries)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from monitor.store.repository import Store
from monitor.store.rows import StoredPost, _aware, _post, username_key
from monitor.store.schema import AccountRow, FindingRow, IngestStateRow, PostRow


@dataclass(frozen=True)
class AccountState:
    username: str
    posts: int
    newest: datetime | None
    last_collected: datetime | None
    status: str


def account_states(store: Store, usernames: Iterable[str]) -> dict[str, AccountState]:
    """Per configured username (as given): its posts, newest post and last X API run."""
    names = list(dict.fromkeys(usernames))
    out: dict[str, AccountState] = {}
    with store.session() as s:
        for name in names:
            ids = store._account_ids(s, [name])
            if not ids:
                out[name] = AccountState(name, 0, None, None, "unknown")
                continue
            n, newest = s.execute(select(func.count(PostRow.id), func.max(PostRow.created_at))
                                  .where(PostRow.account_id.in_(ids))).one()
            last_run = s.scalar(select(func.max(IngestStateRow.last_run_at))
                                .where(IngestStateRow.account_id.in_(ids)))
            status = s.scalar(select(AccountRow.status).where(AccountRow.id == ids[0]))
            out[name] = AccountState(name, int(n), _aware(newest), _aware(last_run),
                                     status or "active")
    return out


def unanalysed_posts(store: Store, pair: str, model: str, accounts: Iterable[str], *,
                     since: datetime | None = None,
                     until: datetime | None = None) -> list[StoredPost]:
    """Executive posts with no finding of (pair, model) for their current text."""
    keys = [username_key(a) for a in accounts]
    with store.session() as s:
        q = (select(PostRow, AccountRow.username).join(AccountRow)
             .outerjoin(FindingRow, (FindingRow.post_pk == PostRow.id)
                        & (FindingRow.pair == pair) & (FindingRow.model == model))
             .where(AccountRow.id.in_(store._account_ids(s, keys)))
             .where((FindingRow.post_pk.is_(None)) | (FindingRow.text_hash != PostRow.text_hash)))
        if since is not None:
            q = q.where(PostRow.created_at >= since)
        if until is not None:
            q = q.where(PostRow.created_at < until)
        return [StoredPost(row.id, _post(row, username), row.text_hash)
                for row, username in s.execute(q.order_by(PostRow.created_at, PostRow.id))]


def last_analysis_at(store: Store, pair: str, model: str) -> datetime | None:
    with store.session() as s:
        return _aware(s.scalar(select(func.max(FindingRow.analysed_at)).where(
            FindingRow.pair == pair, FindingRow.model == model)))


def last_import_at(store: Store, accounts: Iterable[str]) -> datetime | None:
    """When a post of these accounts was last stored (import or collection)."""
    keys = [username_key(a) for a in accounts]
    with store.session() as s:
        return _aware(s.scalar(select(func.max(PostRow.ingested_at)).where(
            PostRow.account_id.in_(store._account_ids(s, keys)))))
