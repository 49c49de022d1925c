"""Every imported field is validated at the boundary (issue 11, defect 1; issue 10's line split
and link-only posts): hostile or careless JSONL lines and archive items end in one
ImportFormatError naming the file, the line and the field, and the store is unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.errors import ImportFormatError, UsageError
from monitor.ingest.archive import read_archive
from monitor.ingest.jsonl import read_jsonl
from monitor.pipeline import import_archive, import_jsonl

GOOD = {"id": "7", "account": "claire_ml", "created_at": "2026-10-01T08:00:00Z", "text": "fine"}


def fingerprint(store: Any) -> list[tuple[str, str, str]]:
    return [(sp.post.post_id, sp.post.text, sp.post.created_at.isoformat())
            for sp in store.posts()]


def _line(**fields: str) -> str:
    """A JSONL line from raw JSON fragments (so escapes and huge numbers stay as written)."""
    base = {k: json.dumps(v) for k, v in GOOD.items()}
    base["id"] = '"8"'
    base.update(fields)
    return "{" + ", ".join(f'"{k}": {v}' for k, v in base.items()) + "}"


JSONL_CASES = [
    # (raw line, field named, words of the problem)
    (_line(id="1" * 5000), None, "a number with 5,000 digits"),
    (_line(urls="[" * 5000 + "]" * 5000), None, "nested"),
    (_line(urls="[" * 100 + "]" * 100), None, "nested more than 64 levels"),
    (_line(created_at='"0001-01-01T00:00:00+14:00"'), "created_at", "not a"),
    (_line(created_at='"9999-12-31T00:00:00Z"'), "created_at", "more than a day in the future"),
    (_line(created_at='"0001-01-01T00:00:00Z"'), "created_at", "before X existed"),
    (_line(created_at='"2005-06-01T00:00:00Z"'), "created_at", "before X existed"),
    (_line(text='"\\ud800 broken"'), "text", "lone surrogate"),
    (_line(text='"a\\u0000b"'), "text", "NUL character"),
    (_line(id='"²"'), "id", "not a numeric post id"),
    (_line(id='"18446744073709551616"'), "id", "not a post id X can have"),
    (_line(id="true"), "id", "numeric id"),
    (_line(lang=str(10**30)), "lang", "must be a language code"),
    (_line(lang=json.dumps("x" * 5000)), "lang", "is not a language code"),
    (_line(account='"claire ml"'), "account", "not an X username"),
    (_line(account='{"a": 1}'), "account", "not an object"),
    (_line(urls="[1]"), "urls[0]", "must be a URL as text"),
    (_line(urls=json.dumps(["https://a.example/" + "x" * 5000])), "urls[0]", "not a URL"),
    (_line(urls=json.dumps([f"https://a.example/{i}" for i in range(500)])), "urls",
     "more than a post carries"),
    (_line(text="NaN"), None, "NaN is not a JSON value"),
    (_line(text=json.dumps("x" * 100_001)), "text", "more than any post"),
    (_line(text='""'), "text", "neither a link"),
    (_line(kind='{"x": 1}'), "kind", "must be one of"),
    (_line(referenced_id='"12ab"'), "referenced_id", "not a numeric post id"),
    ("[1, 2, 3]", None, "expected a JSON object per line"),
]


@pytest.mark.parametrize(("line", "field", "problem"), JSONL_CASES,
                         ids=[f"jsonl-{i}" for i in range(len(JSONL_CASES))])
def test_bad_jsonl_field_is_refused_naming_file_line_and_field(
        tmp_path: Path, store: Any, line: str, field: str | None, problem: str) -> None:
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    import_jsonl(store, first)
    before = fingerprint(store)
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({**GOOD, "id": "9"}) + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as err:
        import_jsonl(store, path)
    message = str(err.value)
    assert str(path) in message and "line 3" in message, message[:300]
    if field is not None:
        assert err.value.field == field and f"field {field!r}" in message
    assert problem in message, message[:300]
    assert fingerprint(store) == before  # the good line 1 was not kept either


def test_lines_split_on_newline_only_keep_unicode_separators_in_text(tmp_path: Path) -> None:
    """U+2028, U+2029 and U+0085 may stand raw inside a JSON string: one post each."""
    path = tmp_path / "sep.jsonl"
    texts = ["avant\u2028après", "un\u2029deux", "nel\x85ici"]
    path.write_text("".join(json.dumps({**GOOD, "id": str(20 + i), "text": t},
                                       ensure_ascii=False) + "\r\n"
                            for i, t in enumerate(texts)), encoding="utf-8")
    assert [p.text for p in read_jsonl(path)] == texts


def test_link_or_media_only_posts_import_with_empty_text(tmp_path: Path, store: Any) -> None:
    path = tmp_path / "links.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {**GOOD, "id": "30", "text": "", "urls": ["https://maison-lumiere.example/lanterne"]},
        {**GOOD, "id": "31", "text": "", "media": ["https://pbs.twimg.com/media/abc.jpg"]},
    ]) + "\n", encoding="utf-8")
    result = import_jsonl(store, path)
    assert result.inserted == 2
    posts = {sp.post.post_id: sp.post for sp in store.posts()}
    assert posts["30"].text == "" and posts["30"].urls == (
        "https://maison-lumiere.example/lanterne",)


def test_import_refusal_through_the_cli_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n', encoding="utf-8")
    path = tmp_path / "bad.jsonl"
    path.write_text(_line(id="9" * 5000) + "\n" + _line(text='"\\udfff"') + "\n",
                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "ingest", "--from-jsonl",
                                      str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert f"{path}: line 1: refused JSON: a number with 5,000 digits" in result.output


# -- the X archive ---------------------------------------------------------------------------

TWEET: dict[str, Any] = {
    "id_str": "1843000000000000001", "created_at": "Wed Oct 01 08:00:00 +0000 2026",
    "full_text": "Bonjour &amp; bienvenue https://t.co/abc", "lang": "fr",
    "entities": {"urls": [{"url": "https://t.co/abc",
                           "expanded_url": "https://maison-lumiere.example/"}],
                 "hashtags": [], "user_mentions": []},
    "edit_info": {"initial": {"editTweetIds": ["1843000000000000001"]}},
}


def write_archive(root: Path, items: list[str]) -> Path:
    """An extracted export whose tweets.js holds one item per line (item k on line k + 2)."""
    data = root / "archive" / "data"
    data.mkdir(parents=True)
    (data / "account.js").write_text('window.YTD.account.part0 = [{"account": {"username": '
                                     '"claire_ml"}}]', encoding="utf-8")
    (data / "tweets.js").write_text("window.YTD.tweets.part0 = [\n" + ",\n".join(items)
                                    + "\n]", encoding="utf-8")
    return root / "archive"


def _raw_item(key: str, raw: str) -> str:
    tweet = {**TWEET, "id_str": "1843000000000000002", key: "__RAW__"}
    return json.dumps({"tweet": tweet}).replace('"__RAW__"', raw)


ARCHIVE_CASES = [
    (_raw_item("entities", '"not an object"'), "entities", "must be an object"),
    (_raw_item("entities", '{"urls": ["https://t.co/abc"]}'), "entities.urls[0]",
     "must be an object"),
    (_raw_item("entities", '{"urls": {"url": 1}}'), "entities.urls", "must be a list"),
    (_raw_item("edit_info", "[1, 2]"), "edit_info", "must be an object"),
    (_raw_item("edit_info", '{"initial": "x"}'), "edit_info.initial", "must be an object"),
    (_raw_item("edit_info", '{"initial": {"editTweetIds": ["1", "²"]}}'),
     "edit_info.initial.editTweetIds[1]", "not a numeric post id"),
    (_raw_item("id_str", '"²"'), "id_str", "not a numeric post id"),
    (_raw_item("lang", str(10**30)), "lang", "must be a language code"),
    (_raw_item("lang", "9" * 5000), None, "a number with 5,000 digits"),
    (_raw_item("full_text", '"\\ud83d alone"'), "full_text", "lone surrogate"),
    (_raw_item("full_text", '"&#0;"'), None, None),  # html.unescape makes U+FFFD: accepted
    (_raw_item("created_at", '"Mon Jan 01 00:00:00 +1400 0001"'), "created_at", "not a"),
    (_raw_item("created_at", '"Fri Dec 31 00:00:00 +0000 9999"'), "created_at",
     "more than a day in the future"),
    (_raw_item("entities", "[" * 3000 + "]" * 3000), None, "nested"),
    (_raw_item("in_reply_to_status_id_str", '"4x"'), "in_reply_to_status_id_str",
     "not a numeric post id"),
    ('"just a string"', None, "expected an object"),
]


@pytest.mark.parametrize(("item", "field", "problem"), ARCHIVE_CASES,
                         ids=[f"archive-{i}" for i in range(len(ARCHIVE_CASES))])
def test_bad_archive_item_is_refused_naming_file_line_and_field(
        tmp_path: Path, store: Any, item: str, field: str | None, problem: str | None) -> None:
    folder = write_archive(tmp_path, [json.dumps({"tweet": TWEET}), item])
    if problem is None:
        assert len(read_archive(folder).posts) == 2
        return
    before = fingerprint(store)
    with pytest.raises(ImportFormatError) as err:
        import_archive(store, folder, None)
    message = str(err.value)
    assert "tweets.js" in message and "line 3" in message, message[:300]
    if field is not None:
        assert err.value.field == field, message[:300]
    assert problem in message, message[:300]
    assert fingerprint(store) == before


def test_archive_link_or_media_only_post_imports(tmp_path: Path) -> None:
    media_only = {**TWEET, "id_str": "1843000000000000003", "full_text": "",
                  "entities": {"media": [{"media_url_https": "https://pbs.twimg.com/a.jpg"}]}}
    folder = write_archive(tmp_path, [json.dumps({"tweet": TWEET}),
                                      json.dumps({"tweet": media_only})])
    posts = {p.post_id: p for p in read_archive(folder).posts}
    assert posts["1843000000000000003"].text == ""
    assert posts["1843000000000000001"].text == "Bonjour & bienvenue https://maison-lumiere.example/"


def test_archive_account_option_is_checked(tmp_path: Path) -> None:
    folder = write_archive(tmp_path, [json.dumps({"tweet": TWEET})])
    with pytest.raises(UsageError, match="--account"):
        read_archive(folder / "data" / "tweets.js", account="claire ml")


def test_archive_for_an_account_no_pair_uses_warns(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n[[pairs]]\n'
                      'name = "p"\nexecutive = ["claire_ml"]\ncorporate = ["MaisonLumiere"]\n',
                      encoding="utf-8")
    folder = write_archive(tmp_path, [json.dumps({"tweet": TWEET})])
    tweets_js = folder / "data" / "tweets.js"
    runner = CliRunner()
    typo = runner.invoke(cli, ["--config", str(config), "ingest", "--from-archive",
                               str(tweets_js), "--account", "clare_ml"])
    assert typo.exit_code == 0, typo.output
    assert "Warning: @clare_ml is in no [[pairs]] table" in typo.output
    assert "Check --account" in typo.output
    right = runner.invoke(cli, ["--config", str(config), "ingest", "--from-archive",
                                str(tweets_js), "--account", "claire_ml"])
    assert right.exit_code == 0 and "Warning" not in right.output
