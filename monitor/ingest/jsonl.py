"""The JSONL import format: one post per line.

Required keys: `id`, `account`, `created_at` (ISO-8601), `text`. Optional: `kind` (original,
reply, retweet, quote), `referenced_id`, `referenced_account`, `urls` (list), `lang`. Other tools
write this format; the names are a public contract.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitor.errors import ImportFormatError
from monitor.ingest.entities import hashtags, mentions, parse_iso, retweeted_account, status_link
from monitor.models import Post, PostKind

REQUIRED = ("id", "account", "created_at", "text")
OPTIONAL = ("kind", "referenced_id", "referenced_account", "urls", "lang")


def read_jsonl(path: str | Path) -> list[Post]:
    """Parse a whole JSONL file; raise `ImportFormatError` (file and line) on any bad line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFormatError(str(path), "file", f"cannot be read ({exc.strerror})") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise ImportFormatError(str(path), f"line {bad_line}", "not valid UTF-8") from None
    posts = []
    for number, text in enumerate(content.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(str(path), f"line {number}, column {exc.colno}",
                                    f"invalid JSON ({exc.msg})") from None
        try:
            posts.append(post_from_record(item))
        except ValueError as exc:
            raise ImportFormatError(str(path), f"line {number}", str(exc)) from None
    return posts


def post_from_record(item: Any) -> Post:
    """One JSONL record -> Post; ValueError says which key is wrong."""
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object per line")
    missing = [k for k in REQUIRED if k not in item or item[k] in (None, "")]
    if missing:
        raise ValueError(f"missing required key(s) {', '.join(missing)}")
    for key in ("id", "account", "created_at", "text"):
        if not isinstance(item[key], str | int) or isinstance(item[key], bool):
            raise ValueError(f"key {key!r} must be a string")
    post_id = str(item["id"])
    if not post_id.isdigit():
        raise ValueError(f"id {post_id!r} must be the post's numeric id")
    account = str(item["account"]).removeprefix("@")
    try:
        created = parse_iso(str(item["created_at"]))
    except ValueError:
        raise ValueError(f"created_at {item['created_at']!r} is not ISO-8601 "
                         "(e.g. 2026-10-01T08:30:00Z)") from None
    text = str(item["text"])
    kind_raw = item.get("kind") or "original"
    try:
        kind = PostKind(str(kind_raw))
    except ValueError:
        raise ValueError(f"kind {kind_raw!r} must be one of original, reply, retweet, "
                         "quote") from None
    urls = item.get("urls") or []
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise ValueError("urls must be a list of strings")
    lang = item.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise ValueError("lang must be a string such as 'fr' or 'en'")
    ref_id = item.get("referenced_id")
    ref_account = item.get("referenced_account")
    # Fill what the record leaves implicit, as the archive does: "RT @x:" and status links.
    if kind == PostKind.ORIGINAL and retweeted_account(text):
        kind = PostKind.RETWEET
    if kind == PostKind.RETWEET and not ref_account:
        ref_account = retweeted_account(text)
    if kind in (PostKind.ORIGINAL, PostKind.QUOTE) and not ref_id:
        for url in urls:
            link = status_link(url)
            if link:
                kind = PostKind.QUOTE
                ref_account, ref_id = ref_account or link[0], link[1]
                break
    return Post(
        post_id=post_id, account=account, created_at=created, text=text, lang=lang or None,
        kind=kind, referenced_ids=(str(ref_id),) if ref_id else (),
        referenced_accounts=(str(ref_account).removeprefix("@"),) if ref_account else (),
        urls=tuple(urls), hashtags=hashtags(text), mentions=mentions(text))
