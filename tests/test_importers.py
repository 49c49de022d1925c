"""The X archive and JSONL importers, on fixtures in the real export format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.errors import ImportFormatError
from monitor.ingest.archive import read_archive
from monitor.ingest.jsonl import read_jsonl
from monitor.models import PostKind
from monitor.pipeline import import_archive, import_jsonl
from tests.harness.archive import FIXTURES, js_part, make_archive


def test_archive_zip_reads_every_kind_of_post(tmp_path: Path) -> None:
    contents = read_archive(make_archive(tmp_path))
    assert contents.account == "claire_ml"
    posts = {p.post_id: p for p in contents.posts}
    # Edited post: only the latest version, with its history.
    assert "1843000000000000006" not in posts
    edited = posts["1843000000000000007"]
    assert edited.text == "Visite de l'atelier de Limoges ce matin."
    assert edited.edit_history == ("1843000000000000006", "1843000000000000007")
    assert len(posts) == 6

    first = posts["1843000000000000001"]
    assert first.text.startswith("R&D, prototypes > 14")  # HTML entities decoded
    assert first.hashtags == ("MadeInFrance",)
    assert first.created_at.isoformat() == "2026-10-01T08:00:00+00:00"
    assert first.account == "claire_ml"

    rt = posts["1843000000000000002"]
    assert rt.kind == PostKind.RETWEET and rt.referenced_accounts == ("MaisonLumiereFR",)

    quote = posts["1843000000000000003"]
    assert quote.kind == PostKind.QUOTE
    assert quote.referenced_ids == ("1842999999999999999",)
    assert quote.referenced_accounts == ("MaisonLumiere",)

    link = posts["1843000000000000004"]
    assert link.urls == ("https://www.maisonlumiere.fr/journal/lanterne-nomade/?utm_source=twitter",)
    assert "t.co" not in link.text  # short link replaced by its target

    reply = posts["1843000000000000005"]
    assert reply.kind == PostKind.REPLY and reply.referenced_ids == ("1842000000000000077",)


@pytest.mark.parametrize("layout", ["folder", "split", "old", "file"])
def test_archive_layouts(tmp_path: Path, layout: str) -> None:
    if layout == "file":
        folder = make_archive(tmp_path, zipped=False, with_account=False)
        contents = read_archive(folder / "data" / "tweets.js", account="@claire_ml")
    else:
        path = make_archive(tmp_path, zipped=layout != "folder", split=layout == "split",
                            old_format=layout == "old")
        contents = read_archive(path)
    # Without edit_info (old exports) both versions of the edited post are distinct posts.
    assert len(contents.posts) == (7 if layout == "old" else 6)
    assert {p.account for p in contents.posts} == {"claire_ml"}


def test_archive_without_account_needs_one(tmp_path: Path) -> None:
    folder = make_archive(tmp_path, zipped=False, with_account=False)
    with pytest.raises(ImportFormatError, match="--account"):
        read_archive(folder)


def test_archive_account_mismatch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="belongs to @claire_ml"):
        read_archive(make_archive(tmp_path), account="someone_else")


def test_truncated_tweets_js_names_file_and_position(tmp_path: Path, store: object) -> None:
    folder = make_archive(tmp_path, zipped=False)
    tweets_js = folder / "data" / "tweets.js"
    content = tweets_js.read_text(encoding="utf-8")
    tweets_js.write_text(content[: len(content) // 2], encoding="utf-8")
    with pytest.raises(ImportFormatError) as err:
        import_archive(store, folder, None)  # type: ignore[arg-type]
    message = str(err.value)
    assert "tweets.js" in message and "line" in message and "column" in message
    assert "Nothing was imported" in message
    assert store.count_posts() == 0  # type: ignore[attr-defined]


def test_item_missing_text_names_the_item(tmp_path: Path) -> None:
    folder = make_archive(tmp_path, zipped=False)
    tweets_js = folder / "data" / "tweets.js"
    data = json.loads((FIXTURES / "tweets.json").read_text(encoding="utf-8"))
    del data[2]["tweet"]["full_text"]
    tweets_js.write_text(js_part("tweets", 0, data), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"item 2 \(id 1843000000000000003\)"):
        read_archive(folder)


def test_importing_the_same_archive_twice_keeps_the_count(tmp_path: Path, store: object) -> None:
    path = make_archive(tmp_path)
    first = import_archive(store, path, None)  # type: ignore[arg-type]
    second = import_archive(store, path, None)  # type: ignore[arg-type]
    assert first.inserted == 6
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 6)
    assert store.count_posts() == 6  # type: ignore[attr-defined]


def test_old_version_then_edit_keeps_one_post(tmp_path: Path, store: object) -> None:
    """An archive taken before an edit, then one after: the post is stored once, latest text."""
    (tmp_path / "a").mkdir()
    old = make_archive(tmp_path / "a", zipped=False, old_format=True)
    (old / "data" / "tweet.js").write_text(js_part("tweet", 0, [
        t for t in json.loads((FIXTURES / "tweets.json").read_text(encoding="utf-8"))
        if t["tweet"]["id_str"] != "1843000000000000007"]), encoding="utf-8")
    import_archive(store, old, None)  # type: ignore[arg-type]
    assert store.count_posts() == 6  # type: ignore[attr-defined]
    (tmp_path / "b").mkdir()
    result = import_archive(store, make_archive(tmp_path / "b"), None)  # type: ignore[arg-type]
    assert result.updated == 1
    posts = {p.post.post_id: p.post for p in store.posts()}  # type: ignore[attr-defined]
    assert "1843000000000000006" not in posts
    assert posts["1843000000000000007"].text.endswith("ce matin.")
    assert store.count_posts() == 6  # type: ignore[attr-defined]


def _write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n",
                    encoding="utf-8")
    return path


def test_jsonl_format(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "p.jsonl", [
        {"id": "10", "account": "@claire_ml", "created_at": "2026-10-01T08:00:00+02:00",
         "text": "Bonjour #Limoges @ami"},
        {"id": "11", "account": "claire_ml", "created_at": "2026-10-01T09:00:00Z",
         "text": "RT @MaisonLumiere: news", "lang": "en"},
        {"id": "12", "account": "claire_ml", "created_at": "2026-10-01T10:00:00Z",
         "text": "Look", "urls": ["https://x.com/MaisonLumiere/status/5"]},
        {"id": 13, "account": "claire_ml", "created_at": "2026-10-01T11:00:00Z",
         "text": "Reply", "kind": "reply", "referenced_id": "9",
         "referenced_account": "bob"},
    ])
    posts = read_jsonl(path)
    assert posts[0].account == "claire_ml"
    assert posts[0].created_at.isoformat() == "2026-10-01T06:00:00+00:00"
    assert posts[0].hashtags == ("Limoges",) and posts[0].mentions == ("ami",)
    assert posts[1].kind == PostKind.RETWEET and posts[1].referenced_accounts == ("MaisonLumiere",)
    assert posts[2].kind == PostKind.QUOTE and posts[2].referenced_ids == ("5",)
    assert posts[3].kind == PostKind.REPLY and posts[3].post_id == "13"


@pytest.mark.parametrize(("line", "expected"), [
    ('{"id": "1", "account": "a", "created_at": "2026-10-01T08:00:00Z"}', "missing required key"),
    ('{"id": "1", "account": "a", "created_at": "yesterday", "text": "x"}',
     "'yesterday' is not a date (ISO-8601"),
    ('{"id": "1", "account": "a", "created_at": "2026-10-01", "text": "x", "kind": "like"}',
     "kind 'like'"),
    ('{"id": "abc", "account": "a", "created_at": "2026-10-01", "text": "x"}',
     "not a numeric post id"),
    ('{"id": "1", "account": "a", "created_at": "2026-10-01", "text": "x", "urls": "u"}',
     "urls must be a list"),
    ('{"id": "1", "account": "a", "created_at": "2026-10-01", "text": "x"', "invalid JSON"),
])
def test_bad_jsonl_line_names_file_and_line(tmp_path: Path, store: object, line: str,
                                            expected: str) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"id": "7", "account": "a", "created_at": "2026-10-01T08:00:00Z",
                       "text": "fine"})
    path.write_text(good + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as err:
        import_jsonl(store, path)  # type: ignore[arg-type]
    assert str(path) in str(err.value) and "line 2" in str(err.value)
    assert expected in str(err.value)
    assert store.count_posts() == 0  # type: ignore[attr-defined]  # the good line was not kept
