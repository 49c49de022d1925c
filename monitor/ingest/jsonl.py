"""The JSONL import format: one post per line.

Required keys: `id`, `account`, `created_at` (ISO-8601), `text`. Optional: `kind` (original,
reply, retweet, quote), `referenced_id`, `referenced_account`, `urls` (list), `media` (list of
media URLs), `lang`. Other tools write this format; the names are a public contract.

Lines are split on "\\n" only (a "\\r" before it is dropped): U+2028, U+2029 or U+0085 may stand
unescaped inside a JSON string, so `str.splitlines` would cut a valid post in two. Every field
is checked by `monitor.ingest.boundary`; the first bad one refuses the whole file, naming the
line and the field.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.errors import ImportFormatError
from monitor.ingest import boundary
from monitor.ingest.boundary import FieldError, JsonProblem
from monitor.ingest.entities import hashtags, mentions, parse_iso, retweeted_account, status_link
from monitor.limits import MAX_FILE_BYTES, MAX_LINE_BYTES
from monitor.models import Post, PostKind

REQUIRED = ("id", "account", "created_at", "text")
OPTIONAL = ("kind", "referenced_id", "referenced_account", "urls", "media", "lang")
ISO_EXAMPLE = "ISO-8601, e.g. 2026-10-01T08:30:00Z"


def read_jsonl(path: str | Path, *, now: datetime | None = None) -> list[Post]:
    """Parse a whole JSONL file; raise `ImportFormatError` (file, line, field) on any bad line.
    `now` bounds the dates (at most a day ahead of it); default: the clock."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFormatError(str(path), "file", f"is {size:,} bytes, more than the "
                                    f"{MAX_FILE_BYTES:,} one import takes; split it")
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFormatError(str(path), "file", f"cannot be read ({exc.strerror})") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise ImportFormatError(str(path), f"line {bad_line}", "not valid UTF-8") from None
    posts = []
    for number, line in enumerate(content.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES // 4 and len(line.encode("utf-8", "replace")) > \
                MAX_LINE_BYTES:
            raise ImportFormatError(str(path), f"line {number}", f"is longer than "
                                    f"{MAX_LINE_BYTES:,} bytes, far more than one post")
        try:
            item = boundary.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(str(path), f"line {number}, column {exc.colno}",
                                    f"invalid JSON ({exc.msg})") from None
        except JsonProblem as exc:
            raise ImportFormatError(str(path), f"line {number}", f"refused JSON: {exc}") from None
        try:
            posts.append(post_from_record(item, now=now))
        except FieldError as exc:
            raise ImportFormatError(str(path), f"line {number}", exc.problem,
                                    field=exc.field or None) from None
    return posts


def post_from_record(item: Any, *, now: datetime | None = None) -> Post:
    """One JSONL record -> Post; `FieldError` says which key is wrong and why."""
    if not isinstance(item, dict):
        raise FieldError("", "expected a JSON object per line")
    missing = [k for k in REQUIRED if item.get(k) is None or (k != "text" and item[k] == "")]
    if missing:
        raise FieldError(missing[0], f"missing required key(s) {', '.join(missing)}")
    post_id = boundary.post_id(item["id"], "id")
    account = boundary.username(item["account"], "account")
    created = boundary.parse_date(item["created_at"], "created_at", parse_iso, ISO_EXAMPLE, now)
    text = boundary.text(item["text"], "text")
    kind_raw = item.get("kind") or "original"
    if not isinstance(kind_raw, str) or kind_raw not in {k.value for k in PostKind}:
        shown = repr(kind_raw) if isinstance(kind_raw, str | int | float) else "that value"
        raise FieldError("kind", f"kind {shown[:40]} must be one of original, reply, retweet, "
                                 "quote")
    kind = PostKind(kind_raw)
    if item.get("urls") is not None and not isinstance(item.get("urls"), list):
        raise FieldError("urls", "urls must be a list of URLs (strings)")
    urls = [boundary.url(u, f"urls[{i}]")
            for i, u in enumerate(boundary.array(item.get("urls"), "urls"))]
    media = [boundary.url(u, f"media[{i}]")
             for i, u in enumerate(boundary.array(item.get("media"), "media"))]
    if not text.strip() and not urls and not media:
        raise FieldError("text", "is empty, and the post has neither a link (urls) nor media: "
                                 "X allows link- or media-only posts, not empty ones")
    lang = boundary.lang(item.get("lang"), "lang")
    ref_id = boundary.optional_id(item.get("referenced_id"), "referenced_id")
    ref_account = boundary.optional_username(item.get("referenced_account"),
                                             "referenced_account")
    # Fill what the record leaves implicit, as the archive does: "RT @x:" and status links.
    if kind == PostKind.ORIGINAL and retweeted_account(text):
        kind = PostKind.RETWEET
    if kind == PostKind.RETWEET and not ref_account:
        ref_account = retweeted_account(text)
    if kind in (PostKind.ORIGINAL, PostKind.QUOTE) and not ref_id:
        for link_url in urls:
            link = status_link(link_url)
            if link:
                kind = PostKind.QUOTE
                ref_account, ref_id = ref_account or link[0], link[1]
                break
    return Post(
        post_id=post_id, account=account, created_at=created, text=text, lang=lang,
        kind=kind, referenced_ids=(ref_id,) if ref_id else (),
        referenced_accounts=(ref_account,) if ref_account else (),
        urls=tuple(urls), hashtags=hashtags(text), mentions=mentions(text))
