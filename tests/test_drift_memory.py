"""The voice drift is computed once per state of its inputs (`app/drift.py`): a report, the
dashboard and the digest read the remembered result, and any new or edited post recomputes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monitor.app.drift import pair_drift
from monitor.config import parse_config
from monitor.models import Post
from monitor.store import Store

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MODEL = "test-model"
WORDS = ["atelier", "lampe", "laiton", "vélo", "course", "montagne", "marché", "équipe",
         "client", "usine", "salon", "projet", "recette", "voyage", "livre", "musique"]


def _post(i: int, account: str, at: datetime, text: str) -> Post:
    return Post(post_id=str(1000 + i), account=account, created_at=at, text=text)


def _vectors(store: Store, rng: np.random.Generator) -> None:
    missing = store.posts_missing_vectors(MODEL)
    vecs = rng.normal(size=(len(missing), 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.save_vectors(MODEL, [(sp.pk, sp.text_hash, v) for sp, v in zip(missing, vecs,
                                                                          strict=True)])


@pytest.fixture
def store(db_url: str) -> Any:
    """Twenty-two weeks of a pair with vectors, on SQLite and (in CI) PostgreSQL."""
    rng = np.random.default_rng(3)
    posts = []
    for day in range(7 * 22):  # 22 weeks: a baseline and twelve weeks of history
        at = START + timedelta(days=day)
        for k in range(2):
            words = " ".join(rng.choice(WORDS, size=5))
            posts.append(_post(len(posts), "ceo", at + timedelta(hours=k), f"Aujourd'hui {words}"))
        posts.append(_post(len(posts), "brand", at + timedelta(hours=3), f"Notre {words}"))
    with Store.open(db_url) as s:
        s.import_posts(posts, source="test")
        _vectors(s, rng)
        yield s


CFG = parse_config({"database": {"url": "sqlite:///unused.db"},
                    "pairs": [{"name": "p", "executive": ["ceo"], "corporate": ["brand"]}]})


def test_the_drift_is_remembered_until_its_posts_change(store: Store,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pair = CFG.pairs[0]
    end = START + timedelta(days=7 * 22)
    first = pair_drift(store, CFG, pair, MODEL, end=end)
    assert first is not None and first.status != "insufficient data"
    loaded: list[int] = []
    load_vectors = store.load_vectors

    def counting(model: str, pks: Any) -> Any:
        loaded.append(len(pks))
        return load_vectors(model, pks)

    monkeypatch.setattr(store, "load_vectors", counting)
    assert pair_drift(store, CFG, pair, MODEL, end=end) == first  # remembered
    assert loaded == []
    other_end = pair_drift(store, CFG, pair, MODEL, end=end - timedelta(days=1))
    assert loaded and other_end is not None  # another period is another result
    loaded.clear()
    assert pair_drift(store, CFG, pair, MODEL, end=end) == first  # both are kept
    assert loaded == []
    # A new executive post in the window: the inputs changed, the test runs again.
    store.import_posts([_post(9999, "ceo", end - timedelta(hours=2),
                              "Une toute nouvelle lampe en laiton pour le salon")], source="test")
    _vectors(store, np.random.default_rng(9))
    again = pair_drift(store, CFG, pair, MODEL, end=end)
    assert loaded and again is not None and again.n_recent == first.n_recent + 1


def test_a_busy_store_is_not_waited_for(store: Store, db_url: str) -> None:
    """While another process writes (SQLite: holds the write lock; PostgreSQL: holds the
    remembered row), the drift is computed and given, not remembered, and the store's own
    connections keep waiting as long as before for their real writes."""
    from sqlalchemy import create_engine, text

    pair = CFG.pairs[0]
    end = START + timedelta(days=7 * 22)
    first = pair_drift(store, CFG, pair, MODEL, end=end)  # remembered: the row exists
    assert first is not None and len(store.get_value("drift:p:test-model") or {}) == 1
    other = create_engine(db_url)
    with other.connect() as writer:
        if db_url.startswith("sqlite"):
            writer.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            writer.execute(text("SELECT key FROM kv WHERE key = 'drift:p:test-model' "
                                "FOR UPDATE"))
        busy = pair_drift(store, CFG, pair, MODEL, end=end - timedelta(days=1))
        writer.rollback()
    other.dispose()
    assert busy is not None and busy.status != "insufficient data"
    assert len(store.get_value("drift:p:test-model") or {}) == 1  # not remembered
    if db_url.startswith("sqlite"):
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    assert pair_drift(store, CFG, pair, MODEL, end=end - timedelta(days=1)) == busy
    assert len(store.get_value("drift:p:test-model") or {}) == 2  # once the store is free


def test_an_analysis_leaves_the_next_report_its_drift(tmp_path: Path, use_encoder: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`monitor analyse` (and the service's tick, through the same call) computes the drift a
    report until now shows: the report then loads no vector for it."""
    import json

    from click.testing import CliRunner

    from monitor.cli import cli
    from monitor.config import load_config

    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n[model]\n'
                      'name = "use-multilingual"\n[[pairs]]\nname = "p"\nexecutive = ["ceo"]\n'
                      'corporate = ["brand"]\n', encoding="utf-8")
    posts = tmp_path / "p.jsonl"
    posts.write_text("\n".join(json.dumps({
        "id": str(i + 1), "account": "ceo" if i % 2 else "brand",
        "created_at": (START + timedelta(days=i)).isoformat(),
        "text": f"Jour {i} : notre atelier prépare une nouvelle lampe en laiton recyclé"})
        for i in range(30)) + "\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "ingest", "--from-jsonl",
                               str(posts)]).exit_code == 0
    analysed = runner.invoke(cli, ["--config", str(config), "analyse"])
    assert analysed.exit_code == 0, analysed.output
    cfg = load_config(config)
    with Store.open(cfg.database_url()) as s:
        assert len(s.get_value("drift:p:use-multilingual-v3") or {}) == 1  # remembered

        def no_vectors(*_args: Any) -> Any:
            raise AssertionError("the report recomputed the drift the analysis left")

        monkeypatch.setattr(s, "load_vectors", no_vectors)
        from monitor.app.reports import build_report

        report = build_report(s, cfg, cfg.pairs[0])
        assert report.drift is not None and report.drift.status == "insufficient data"
