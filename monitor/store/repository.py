"""The store: the only package that speaks SQL.

One `Store` wraps an engine (created from a URL, or passed in and then left open). Every write
method is one transaction: it either stores everything it was given or nothing. `Store` is one
front over one repository class per concern, each in its own module, all on `StoreBase`
(engine, transactions, account look-ups):

    PostsRepository       posts_repo.py      accounts and posts, idempotent imports
    AnalysisRepository    analysis_repo.py   vectors, findings, calibrations, small facts
    IngestRepository      ingest_repo.py     X identities and renames, collection state, reads
                                             (on PostsRepository: a page saves its posts)
    OutboxRepository      outbox_repo.py     the outbox: queue, claim, send, retry
    AlertRepository       alert_repo.py      alert state and history, silences, risk notices
    FreshnessRepository   freshness_repo.py  posts waiting, last import/collection/analysis
"""

from __future__ import annotations

from monitor.errors import StoreError
from monitor.store import migrate
from monitor.store.alert_repo import AlertRepository
from monitor.store.analysis_repo import AnalysisRepository
from monitor.store.engine import create_store_engine
from monitor.store.freshness_repo import FreshnessRepository
from monitor.store.ingest_repo import IngestRepository
from monitor.store.outbox_repo import OutboxRepository
from monitor.store.rows import ImportResult, StoredFinding, StoredPost, text_hash

__all__ = ["ImportResult", "Store", "StoredFinding", "StoredPost", "text_hash"]


class Store(IngestRepository, AnalysisRepository, OutboxRepository, AlertRepository,
            FreshnessRepository):  # IngestRepository builds on PostsRepository
    """Repository over the monitor's database (SQLite file by default, or PostgreSQL)."""

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
