"""The store's analysis side: vectors per (post, model), findings, calibrations, small facts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from monitor.errors import MissingVectors
from monitor.models import Calibration, Finding, NullTail, PostClass
from monitor.store.base import StoreBase
from monitor.store.rows import (
    CLASSES,
    StoredFinding,
    StoredPost,
    aware,
    chunked,
    post_of,
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

if TYPE_CHECKING:  # vectors are numpy arrays; the store imports numpy only to handle them
    import numpy as np


class AnalysisRepository(StoreBase):
    """Vectors, findings and calibrations (the store's tables the analysis reads and writes)."""

    # -- embeddings ----------------------------------------------------------------------------

    def posts_missing_vectors(self, model: str,
                              accounts: Iterable[str] | None = None) -> list[StoredPost]:
        """Posts with no vector for `model`, or whose text changed since it was computed."""
        with self.session() as s:
            q = (select(PostRow, AccountRow.username).join(AccountRow)
                 .outerjoin(EmbeddingRow, (EmbeddingRow.post_pk == PostRow.id)
                            & (EmbeddingRow.model == model))
                 .where((EmbeddingRow.post_pk.is_(None))
                        | (EmbeddingRow.text_hash != PostRow.text_hash))
                 .where(self.sane_dates(PostRow.created_at)))
            if accounts is not None:
                q = q.where(AccountRow.id.in_(self._account_ids(s, accounts)))
            q = q.order_by(PostRow.id)
            return [StoredPost(row.id, post_of(row, username), row.text_hash)
                    for row, username in s.execute(q)]

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
                for pk, d, blob in s.execute(select(EmbeddingRow.post_pk, EmbeddingRow.dim,
                                                    EmbeddingRow.vector)
                                             .where(EmbeddingRow.model == model,
                                                    EmbeddingRow.post_pk.in_(chunk))):
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
        # Plain column rows, not ORM objects: a year of findings loads several times faster.
        fcols, pcols = list(FindingRow.__table__.c), list(PostRow.__table__.c)
        fnames, pnames = [c.name for c in fcols], [c.name for c in pcols]
        with self.session() as s:
            q = (select(*fcols, *pcols, AccountRow.username)
                 .join(PostRow, PostRow.id == FindingRow.post_pk).join(AccountRow)
                 .where(FindingRow.pair == pair, FindingRow.model == model,
                        self.sane_dates(PostRow.created_at)))
            if since is not None:
                q = q.where(FindingRow.created_at >= since)
            if until is not None:
                q = q.where(FindingRow.created_at < until)
            q = q.order_by(FindingRow.created_at, FindingRow.post_pk)
            split = len(fcols)
            rows = [(SimpleNamespace(**dict(zip(fnames, r[:split], strict=True))),
                     SimpleNamespace(**dict(zip(pnames, r[split:-1], strict=True))), r[-1])
                    for r in s.execute(q)]
        nearest = self.posts_by_ids([f.nearest_post_id for f, _, _ in rows if f.nearest_post_id])
        out = []
        for f, p, username in rows:
            post = post_of(p, username)  # type: ignore[arg-type]
            near = nearest.get(f.nearest_post_id) if f.nearest_post_id else None
            out.append(StoredFinding(
                finding=Finding(
                    post_id=p.post_id, account=username, created_at=aware(f.created_at)
                    or post.created_at,
                    post_class=CLASSES.get(f.post_class) or PostClass(f.post_class),
                    reason=f.reason,
                    similarity=f.similarity, lexical=f.lexical, nearest_id=f.nearest_post_id,
                    nearest_account=near.account if near else None,
                    line_similarity=f.line_similarity, offlimits_topic=f.offlimits_topic,
                    offlimits_similarity=f.offlimits_similarity,
                    shared_terms=tuple(f.shared_terms or ()), subkind=f.subkind,
                    substance=f.substance, days_apart=f.days_apart, p_value=f.p_value,
                    q_value=f.q_value),
                post=post, nearest=near, text_hash=f.text_hash,
                thresholds_key=f.thresholds_key))
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

    def set_value(self, key: str, value: dict[str, Any]) -> None:
        with self.session() as s:
            row = s.get(KeyValueRow, key)
            if row is None:
                s.add(KeyValueRow(key=key, value=value, updated_at=utc_now()))
            else:
                row.value = value
                row.updated_at = utc_now()


def _float32(vec: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.asarray(vec, dtype=np.float32)
