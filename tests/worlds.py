"""Constructed timelines for the pure analysis tests: posts with known vectors and times.

A "world" is a brand posting twice a day for months and an executive posting about as often,
every post with enough words to be judged by similarity, their vectors drawn so that unrelated
posts have similarities around 0.2 (like an embedding model's common offset). Tests plant what
they need (a paraphrase, a generic on-theme post, a reply) and classify it against the world.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from monitor.analysis.calibrate import calibrate
from monitor.analysis.classify import OwnBaseline, classify
from monitor.analysis.offlimits import Guardrails
from monitor.models import Calibration, Finding, Post, PostKind, Thresholds

DAY = 86400.0
T0 = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)  # a Wednesday
DIM = 64
OFFSET = 0.2  # similarity every pair of posts shares

_LETTERS = np.array(list("bcdfghjklmnpqrstvz"))
_VOWELS = np.array(list("aeiou"))


def words(rng: np.random.Generator, n: int = 10) -> str:
    """`n` made-up content words (no stopword, no filler): enough substance to be judged."""
    out = []
    for _ in range(n):
        k = int(rng.integers(2, 4))
        out.append("".join(str(rng.choice(_LETTERS)) + str(rng.choice(_VOWELS))
                           for _ in range(k)))
    return " ".join(out)


def normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def unrelated(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit vectors with pairwise similarity about OFFSET ± 0.1."""
    rest = normalise(rng.standard_normal((n, DIM - 1)))
    return np.concatenate([np.full((n, 1), np.sqrt(OFFSET)), np.sqrt(1 - OFFSET) * rest], axis=1)


def near(v: np.ndarray, similarity: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector with the given similarity to unit vector `v` (a paraphrase of it)."""
    other = rng.standard_normal(DIM)
    other -= (other @ v) * v
    other /= np.linalg.norm(other)
    return similarity * v + np.sqrt(1 - similarity**2) * other


def post(post_id: str, at: datetime, text: str, account: str = "jane_ceo", **kw: Any) -> Post:
    return Post(post_id=post_id, account=account, created_at=at, text=text, **kw)


def thresholds(**kw: Any) -> Thresholds:
    values: dict[str, Any] = {"overlap": 0.45, "lexical": 0.6, "offline": -1.0,
                              "offlimits": 0.7, "lag_days": 3.0, "source": "test",
                              "recycle_days": 30.0, "fdr": 0.05, "offline_own": -1.0}
    values.update(kw)
    return Thresholds(**values)


@dataclass
class World:
    rng: np.random.Generator
    corp: list[Post]
    corp_vecs: np.ndarray
    execs: list[Post]
    exec_vecs: np.ndarray
    calibration: Calibration

    def corp_at(self, days: float) -> int:
        """Index of the corporate post nearest to T0 + days."""
        target = (T0 + timedelta(days=days)).timestamp()
        return int(np.argmin([abs(p.created_at.timestamp() - target) for p in self.corp]))

    def classify(self, posts: Sequence[Post], vecs: Sequence[np.ndarray], *,
                 th: Thresholds | None = None, extra_corp: Sequence[tuple[Post, np.ndarray]] = (),
                 **kw: Any) -> list[Finding]:
        corp = list(self.corp) + [p for p, _ in extra_corp]
        cvecs = np.vstack([self.corp_vecs, *[v[None, :] for _, v in extra_corp]])
        kw.setdefault("null", self.calibration.null)
        kw.setdefault("own", OwnBaseline(self.exec_vecs, seconds(self.execs),
                                         tuple(p.post_id for p in self.execs)))
        return classify(list(posts), np.vstack([np.asarray(v)[None, :] for v in vecs]), corp,
                        cvecs, th or thresholds(), corporate_accounts=["Acme"],
                        executive_accounts=["jane_ceo"], **kw)

    def one(self, p: Post, v: np.ndarray, **kw: Any) -> Finding:
        [finding] = self.classify([p], [v], **kw)
        return finding


def seconds(posts: Sequence[Post]) -> np.ndarray:
    return np.array([p.created_at.timestamp() for p in posts], dtype=np.float64)


_WORLDS: dict[int, World] = {}


def world(seed: int = 0, days: int = 180) -> World:
    """The brand posts every 12 hours for `days` days from T0 - days/2; the executive about
    every 11 hours; nothing repeats. Calibrated like the monitor does (cached per seed)."""
    if seed in _WORLDS:
        return _WORLDS[seed]
    rng = np.random.default_rng(seed)
    start = T0 - timedelta(days=days / 2)
    nc, ne = days * 2, int(days * 24 / 11)
    corp = [post(f"c{i}", start + timedelta(hours=12 * i + 1), words(rng), account="Acme")
            for i in range(nc)]
    execs = [post(f"x{i}", start + timedelta(hours=11 * i + 5), words(rng))
             for i in range(ne)]
    cv, ev = unrelated(rng, nc), unrelated(rng, ne)
    cal = calibrate(execs, ev, corp, cv, Guardrails.empty(DIM), lag_days=3.0, recycle_days=30.0,
                    reference_days=90.0, topics_key="test", size=nc + ne)
    assert cal.sufficient and cal.null is not None
    _WORLDS[seed] = World(rng, corp, cv, execs, ev, cal)
    return _WORLDS[seed]


def moved(p: Post, **changes: Any) -> Post:
    return replace(p, **changes)


RETWEET, QUOTE, REPLY = PostKind.RETWEET, PostKind.QUOTE, PostKind.REPLY
