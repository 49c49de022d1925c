"""The store's analysis side: vectors per (post, model), findings, calibrations, small facts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from monitor.errors import MissingVectors, StoreError
from monitor.models import Calibration, Finding, NullTail, PostClass
from monitor.store.base import StoreBase, stored_posts
from monitor.store.engine import SQLITE_BUSY_MS
from monitor.store.rows import (
    CLASSES,
    POST_COLUMNS,
    StoredFinding,
    StoredPost,
    aware,
    chunked,
    post_from,
    utc_now,
)
from monitor.store.schema import (
    AccountRow,
    CalibrationRow,
    EmbeddingRow,
    FindingRow,
    KeyValueRow,
    PostRow,
)

# What a Finding is read from, in its fields' order, then the hashes its freshness rests on.
FINDING_COLUMNS = (FindingRow.created_at, FindingRow.post_class, FindingRow.reason,
                   FindingRow.similarity, FindingRow.lexical, FindingRow.nearest_post_id,
                   FindingRow.line_similarity, FindingRow.offlimits_topic,
                   FindingRow.offlimits_similarity, FindingRow.shared_terms, FindingRow.subkind,
                   FindingRow.substance, FindingRow.days_apart, FindingRow.p_value,
                   FindingRow.q_value, FindingRow.text_hash, FindingRow.thresholds_key)
FINDING_WIDTH = len(FINDING_COLUMNS)
CACHE_WAIT_MS = 50  # how long a cache write waits for another writer before giving up
NEAREST = FINDING_COLUMNS.index(FindingRow.nearest_post_id)

if TYPE_CHECKING:  # vectors are numpy arrays; the store imports numpy only to handle them
    import numpy as np


class AnalysisRepository(StoreBase):
    """Vectors, findings and calibrations (the store's tables the analysis reads and writes)."""

    # -- embeddings ----------------------------------------------------------------------------

    def posts_missing_vectors(self, model: str,
                              accounts: Iterable[str] | None = None) -> list[StoredPost]:
        """Posts with no vector for `model`, or whose text changed since it was computed."""
        with self.session() as s:
            q = (select(*POST_COLUMNS, AccountRow.username).join(AccountRow)
                 .outerjoin(EmbeddingRow, (EmbeddingRow.post_pk == PostRow.id)
                            & (EmbeddingRow.model == model))
                 .where((EmbeddingRow.post_pk.is_(None))
                        | (EmbeddingRow.text_hash != PostRow.text_hash))
                 .where(self.sane_dates(PostRow.created_at)))
            if accounts is not None:
                q = q.where(AccountRow.id.in_(self._account_ids(s, accounts)))
            q = q.order_by(PostRow.id)
            return stored_posts(s, q)

    def save_vectors(self, model: str, items: Sequence[tuple[int, str, np.ndarray]]) -> None:
        """Store float32 vectors for (post pk, text hash) in one transaction."""
        with self.session() as s:
            pks = [pk for pk, _, _ in items]
            for chunk in chunked(pks):
                s.execute(delete(EmbeddingRow).where(EmbeddingRow.model == model,
                                                     EmbeddingRow.post_pk.in_(chunk)))
            if items:  # one executemany, not an ORM object per vector
                s.execute(insert(EmbeddingRow), [
                    {"post_pk": pk, "model": model, "text_hash": h, "dim": int(vec.shape[0]),
                     "vector": _float32(vec).tobytes()}
                    for pk, h, vec in items])

    def load_vectors(self, model: str, pks: Sequence[int]) -> np.ndarray:
        """Vectors for `pks` in that order, as a float32 matrix; raises if any is missing."""
        import numpy as np

        found: dict[int, bytes] = {}
        dim = 0
        with self.session() as s:
            for chunk in chunked(list(pks), 2000):
                # Core rows on the session's connection: no ORM result machinery per vector.
                for pk, d, blob in s.connection().execute(
                        select(EmbeddingRow.post_pk, EmbeddingRow.dim, EmbeddingRow.vector)
                        .where(EmbeddingRow.model == model,
                               EmbeddingRow.post_pk.in_(chunk))).all():
                    found[pk] = blob
                    dim = d
        missing = [pk for pk in pks if pk not in found]
        if missing:
            raise MissingVectors(model, len(missing))
        if not pks:
            return np.zeros((0, dim), dtype=np.float32)
        return np.frombuffer(b"".join(found[pk] for pk in pks), dtype=np.float32).reshape(
            len(pks), dim)

    # -- findings ------------------------------------------------------------------------------

    def save_findings(self, pair: str, model: str,
                      items: Sequence[tuple[int, str, str, Finding]]) -> None:
        """Replace the findings of (pair, model) for the given posts: (pk, text hash,
        thresholds key, finding)."""
        now = utc_now()
        with self.session() as s:
            pks = [pk for pk, _, _, _ in items]
            for chunk in chunked(pks):
                s.execute(delete(FindingRow).where(FindingRow.pair == pair,
                                                   FindingRow.model == model,
                                                   FindingRow.post_pk.in_(chunk)))
            if items:  # one executemany, not an ORM object per finding
                # render_nulls: one executemany, not one INSERT per set of non-null columns
                s.execute(insert(FindingRow).execution_options(render_nulls=True), [dict(
                    pair=pair, model=model, post_pk=pk, created_at=f.created_at,
                    post_class=f.post_class.value, reason=f.reason, similarity=f.similarity,
                    lexical=f.lexical, nearest_post_id=f.nearest_id,
                    line_similarity=f.line_similarity, offlimits_topic=f.offlimits_topic,
                    offlimits_similarity=f.offlimits_similarity,
                    shared_terms=list(f.shared_terms), text_hash=h, thresholds_key=key,
                    analysed_at=now, subkind=f.subkind, substance=f.substance,
                    days_apart=f.days_apart, p_value=f.p_value, q_value=f.q_value)
                    for pk, h, key, f in items])

    def findings(self, pair: str, model: str, *, since: datetime | None = None,
                 until: datetime | None = None) -> list[StoredFinding]:
        """Stored findings of a pair, oldest first, with their posts and nearest posts."""
        with self.session() as s:
            q = (select(*FINDING_COLUMNS, *POST_COLUMNS, AccountRow.username)
                 .join(PostRow, PostRow.id == FindingRow.post_pk).join(AccountRow)
                 .where(FindingRow.pair == pair, FindingRow.model == model,
                        self.sane_dates(PostRow.created_at)))
            if since is not None:
                q = q.where(FindingRow.created_at >= since)
            if until is not None:
                q = q.where(FindingRow.created_at < until)
            q = q.order_by(FindingRow.created_at, FindingRow.post_pk)
            # Core rows on the session's connection (plain tuples, read by position): a year
            # of findings is 9,000 rows, and the ORM's result machinery cost more than SQLite.
            rows: Sequence[Any] = s.connection().execute(q).all()
        nearest = self.posts_by_ids({r[NEAREST]: None for r in rows if r[NEAREST]})
        out = []
        for r in rows:
            (created_at, post_class, reason, similarity, lexical, nearest_id, line_similarity,
             offlimits_topic, offlimits_similarity, shared_terms, subkind, substance_,
             days_apart, p_value, q_value, hash_, thresholds_key) = r[:FINDING_WIDTH]
            post = post_from(r, r[-1], FINDING_WIDTH)
            near = nearest.get(nearest_id) if nearest_id else None
            out.append(StoredFinding(
                Finding(post.post_id, post.account, aware(created_at) or post.created_at,
                        CLASSES.get(post_class) or PostClass(post_class), reason, similarity,
                        lexical, nearest_id, near.account if near else None, line_similarity,
                        offlimits_topic, offlimits_similarity, tuple(shared_terms or ()),
                        subkind, substance_, days_apart, p_value, q_value),
                post, near, hash_, thresholds_key))
        return out

    # -- calibration and small facts -----------------------------------------------------------

    def save_calibration(self, pair: str, model: str, calibration: Calibration) -> None:
        values = asdict(calibration)
        with self.session() as s:
            row = s.get(CalibrationRow, (pair, model))
            if row is None:
                s.add(CalibrationRow(pair=pair, model=model, computed_at=utc_now(), values=values))
            else:
                row.values = values
                row.computed_at = utc_now()

    def calibration(self, pair: str, model: str) -> Calibration | None:
        """The stored calibration, or None (also for one written by an older version: it is
        simply recomputed)."""
        with self.session() as s:
            row = s.get(CalibrationRow, (pair, model))
            values = dict(row.values) if row else None
        if not values:
            return None
        try:
            null = values.pop("null", None)
            return Calibration(**values, null=NullTail(**{
                **null, "survival": tuple(null["survival"])}) if null else None)
        except TypeError:
            return None

    def finding_similarities(self, pair: str, model: str,
                             pks: Sequence[int]) -> dict[int, float | None]:
        """Post pk -> the similarity its stored finding rests on (posts with no finding are
        absent): a new corporate post that comes no closer cannot change the finding."""
        out: dict[int, float | None] = {}
        with self.session() as s:
            for chunk in chunked(list(pks), 2000):
                for pk, sim in s.execute(select(FindingRow.post_pk, FindingRow.similarity).where(
                        FindingRow.pair == pair, FindingRow.model == model,
                        FindingRow.post_pk.in_(chunk))):
                    out[pk] = sim
        return out

    def p_values(self, pair: str, model: str, *, since: datetime,
                 until: datetime) -> list[float]:
        """Chance levels of the pair's findings in [since, until): the multiple-testing
        family a new batch of posts joins."""
        with self.session() as s:
            values = s.scalars(select(FindingRow.p_value).where(
                FindingRow.pair == pair, FindingRow.model == model,
                FindingRow.created_at >= since, FindingRow.created_at < until))
            return [float(p) for p in values if p is not None]

    def get_value(self, key: str) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.get(KeyValueRow, key)
            return dict(row.value) if row else None

    def offer_value(self, key: str, value: dict[str, Any]) -> bool:
        """`set_value` for a cache: gives up (False) rather than wait while another process
        writes (SQLite's busy timeout, PostgreSQL's lock wait), so a report never waits on the
        service to remember what it can recompute."""
        sqlite = self.engine.dialect.name == "sqlite"
        try:
            with self.session() as s:
                conn = s.connection()
                conn.exec_driver_sql(f"PRAGMA busy_timeout={CACHE_WAIT_MS}" if sqlite else
                                     f"SET LOCAL lock_timeout = '{CACHE_WAIT_MS}ms'")
                try:
                    _put_value(s, key, value)
                    s.flush()  # the write lock is taken here, within the short wait
                finally:
                    if sqlite:  # the pooled connection waits as long as every other one
                        conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        except StoreError:
            return False
        return True

    def set_value(self, key: str, value: dict[str, Any]) -> None:
        with self.session() as s:
            _put_value(s, key, value)


def _put_value(s: Session, key: str, value: dict[str, Any]) -> None:
    row = s.get(KeyValueRow, key)
    if row is None:
        s.add(KeyValueRow(key=key, value=value, updated_at=utc_now()))
    else:
        row.value = value
        row.updated_at = utc_now()


def _float32(vec: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.asarray(vec, dtype=np.float32)
