"""The store (idempotent upserts, UTC, vector cache) and embedding with the real models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from monitor.errors import StoreError
from monitor.models import Post
from monitor.pipeline import embed_pending, import_jsonl
from monitor.store import Store

T0 = datetime(2026, 10, 1, 8, tzinfo=UTC)


def _post(pid: str, text: str, account: str = "claire_ml", hours: int = 0) -> Post:
    return Post(post_id=pid, account=account, created_at=T0 + timedelta(hours=hours), text=text)


def test_upserts_are_idempotent_and_edits_update(store: Store) -> None:
    first = store.import_posts([_post("1", "a"), _post("2", "b")], source="test")
    again = store.import_posts([_post("1", "a"), _post("2", "b")], source="test")
    edited = store.import_posts([_post("2", "b, corrected")], source="test")
    assert (first.inserted, again.unchanged, edited.updated) == (2, 2, 1)
    assert store.count_posts() == 2
    assert [sp.post.text for sp in store.posts()] == ["a", "b, corrected"]


def test_times_come_back_as_utc(store: Store) -> None:
    paris = timezone(timedelta(hours=2))
    store.import_posts([Post(post_id="1", account="a", text="x",
                             created_at=datetime(2026, 10, 1, 10, tzinfo=paris))], source="t")
    (sp,) = store.posts()
    assert sp.post.created_at == datetime(2026, 10, 1, 8, tzinfo=UTC)
    assert sp.post.created_at.utcoffset() == timedelta(0)


def test_usernames_are_case_insensitive(store: Store) -> None:
    store.import_posts([_post("1", "a", account="MaisonLumiere"),
                        _post("2", "b", account="maisonlumiere")], source="t")
    assert store.count_posts("MAISONLUMIERE") == 2
    assert len(store.accounts()) == 1


def test_failed_import_leaves_store_unchanged(store: Store) -> None:
    store.import_posts([_post("1", "a")], source="t")
    naive = Post(post_id="2", account="a", text="x", created_at=datetime(2026, 1, 1))
    with pytest.raises(StoreError, match=r"naive datetime.*Nothing from this step was saved"):
        store.import_posts([_post("3", "c"), naive], source="t")
    assert store.count_posts() == 1


def test_embedding_cache_second_run_embeds_nothing(store: Store, use_encoder: object,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps({
        "id": str(i), "account": "claire_ml", "created_at": f"2026-10-0{1 + i % 5}T08:00:00Z",
        "text": f"Post numéro {i} sur la lumière et les ateliers"}) for i in range(1, 13)),
        encoding="utf-8")
    import_jsonl(store, path)
    assert embed_pending(store, use_encoder) == 12  # type: ignore[arg-type]
    assert embed_pending(store, use_encoder) == 0  # type: ignore[arg-type]
    # An edit changes the text: that post alone is embedded again.
    store.import_posts([_post("5", "Texte corrigé après modification", hours=100)], source="t")
    assert embed_pending(store, use_encoder) == 1  # type: ignore[arg-type]
    pks = [sp.pk for sp in store.posts()]
    vecs = store.load_vectors("use-multilingual-v3", pks)
    assert vecs.dtype == np.float32 and vecs.shape == (12, 512)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)


def test_default_model_loads_offline_and_separates_meaning(minilm: object) -> None:
    vecs = minilm.encode([  # type: ignore[attr-defined]
        "We are launching a rechargeable outdoor lamp today.",
        "Today we launch our new rechargeable lamp for the garden.",
        "I ran my first marathon in the rain this weekend."])
    assert vecs.shape == (3, 384)
    assert minilm.model_id == "sentence-transformers/all-MiniLM-L6-v2"  # type: ignore[attr-defined]
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.3


def test_unknown_model_is_a_configuration_error_at_once() -> None:
    from monitor.embed import make_encoder
    from monitor.errors import ConfigError

    # Refused before anything loads (no torch import, no hub retries): exit 2.
    for name in ("/nonexistent/model-folder", "no-such-org/no-such-model", "not a model!!"):
        with pytest.raises(ConfigError, match=r"is not a model this machine has"):
            make_encoder(name)


class CountingEncoder:
    """The real multilingual encoder, counting the texts it is asked to encode."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.model_id = inner.model_id  # type: ignore[attr-defined]
        self.texts: list[str] = []

    def encode(self, texts: list[str], *, progress: object = None) -> np.ndarray:
        self.texts += list(texts)
        return self.inner.encode(texts)  # type: ignore[attr-defined, no-any-return]


def test_a_retweet_shares_the_vector_of_the_post_it_copies(store: Store,
                                                            use_encoder: object) -> None:
    text = "Lanterne Nomade est disponible en boutique et en ligne dès aujourd'hui."
    store.import_posts([_post("1", text, account="brand"),
                        _post("2", f"RT @brand: {text}", hours=1),
                        _post("3", "Tout autre chose : randonnée ce week-end.", hours=2)],
                       source="t")
    counting = CountingEncoder(use_encoder)
    assert embed_pending(store, counting) == 3  # type: ignore[arg-type]
    assert sorted(counting.texts) == sorted([text, "Tout autre chose : randonnée ce week-end."])
    vecs = store.load_vectors(counting.model_id, [sp.pk for sp in store.posts()])
    assert np.array_equal(vecs[0], vecs[1]) and not np.array_equal(vecs[0], vecs[2])
