"""The X archive export ("Download your archive"), as the zip, its folder, or a tweets.js file.

`data/tweets.js` (older exports: `data/tweet.js`), possibly split into `tweets-part1.js`, ...,
each a JavaScript assignment `window.YTD.tweets.part0 = [ {"tweet": {...}}, ... ]`. Facts of real
exports this reader relies on: `full_text` is HTML-escaped; `retweeted` is always false, so a
retweet shows only as the `RT @user:` prefix; a quote shows only as an `expanded_url` to a status;
`data/account.js` names the account; edited posts appear once per version with `edit_info`.
"""

from __future__ import annotations

import html
import json
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.errors import ImportFormatError, UsageError
from monitor.ingest import boundary
from monitor.ingest.boundary import FieldError, JsonProblem
from monitor.ingest.entities import (
    hashtags,
    parse_twitter_date,
    retweeted_account,
    status_link,
)
from monitor.limits import MAX_FILE_BYTES
from monitor.models import Post, PostKind

_ASSIGNMENT = re.compile(r"^\s*window\.YTD\.(\w+)\.part(\d+)\s*=\s*")
_TWEET_FILE = re.compile(r"(?:^|/)data/(tweets?)(?:-part(\d+))?\.js$")
_WHITESPACE = " \t\r\n"
DATE_EXAMPLE = "as X writes it, e.g. 'Wed Oct 01 08:30:00 +0000 2026'"


@dataclass(frozen=True)
class ArchiveContents:
    """What an archive holds: its account (if it says) and its posts (latest versions)."""

    account: str | None
    posts: list[Post]


@dataclass(frozen=True)
class _Item:
    where: str  # the file, as messages name it
    line: int
    index: int
    value: Any


def read_archive(path: str | Path, account: str | None = None, *,
                 now: datetime | None = None) -> ArchiveContents:
    """Read an export given as a .zip, its extracted folder, or a single tweets.js file.

    `account` names the author when the archive does not (a lone tweets.js); when the archive
    names its account, that name wins unless they disagree, which is an error. `now` bounds the
    post dates (at most a day ahead); default: the clock.
    """
    path = Path(path)
    if account is not None:
        try:
            account = boundary.username(account, "--account")
        except FieldError as exc:
            raise UsageError(f"--account {exc.problem}") from None
    if not path.exists():
        raise ImportFormatError(str(path), "path", "does not exist")
    files = _archive_files(path)
    tweet_files = sorted((name for name in files if _TWEET_FILE.search("/" + name)
                          or (path.is_file() and path.suffix == ".js")),
                         key=_part_number)
    if not tweet_files:
        raise ImportFormatError(str(path), "archive",
                                "has no data/tweets.js or data/tweet.js; is it an X archive?")
    named = _account_name(path, files)
    if named and account and named.casefold() != account.casefold():
        raise ImportFormatError(str(path), "data/account.js",
                                f"the archive belongs to @{named}, not @{account}")
    author = named or account
    if not author:
        raise ImportFormatError(str(path), "archive",
                                "does not name its account (no data/account.js); pass "
                                "--account USERNAME")
    items: list[_Item] = []
    for name in tweet_files:
        items.extend(_load_js_array(path, name, files[name]))
    return ArchiveContents(account=named, posts=_latest_versions(author, items, now))


def _archive_files(path: Path) -> dict[str, Callable[[], bytes]]:
    """Relative name -> reader, for a zip, a folder, or a single file. Each reader refuses a
    file larger than MAX_FILE_BYTES before reading it (a zip bomb stays a clear error)."""
    if path.is_file() and zipfile.is_zipfile(path):
        try:
            archive = zipfile.ZipFile(path)
            infos = [info for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ImportFormatError(str(path), "zip", f"is damaged ({exc})") from None

        def reader(info: zipfile.ZipInfo) -> Callable[[], bytes]:
            def read() -> bytes:
                _check_size(f"{path}!{info.filename}", info.file_size)
                return archive.read(info)

            return read

        return {info.filename: reader(info) for info in infos}
    if path.is_file():
        if path.suffix == ".zip":
            raise ImportFormatError(str(path), "zip", "is not a valid zip file (truncated?)")
        return {path.name: _file_reader(path)}
    return {file.relative_to(path).as_posix(): _file_reader(file) for file in path.rglob("*.js")}


def _file_reader(file: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        _check_size(str(file), file.stat().st_size)
        return file.read_bytes()

    return read


def _check_size(where: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise ImportFormatError(where, "file", f"is {size:,} bytes, more than the "
                                f"{MAX_FILE_BYTES:,} one import reads")


def _part_number(name: str) -> tuple[int, str]:
    match = _TWEET_FILE.search("/" + name)
    return (int(match.group(2) or 0) if match else 0, name)


def _where(root: Path, name: str) -> str:
    if root.name == name:
        return str(root)
    return f"{root}!{name}" if root.is_file() else str(root / name)


def _load_js_array(root: Path, name: str, read: Callable[[], bytes]) -> list[_Item]:
    """The items of `window.YTD.x.partN = [ ... ]`, each with the line it starts on."""
    where = _where(root, name)
    try:
        text = read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(where, f"byte {exc.start}", "not valid UTF-8") from None
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, ValueError,
            RuntimeError) as exc:
        raise ImportFormatError(where, "file", f"cannot be read ({exc})") from None
    match = _ASSIGNMENT.match(text)
    if not match:
        raise ImportFormatError(where, "line 1", "does not start with "
                                "'window.YTD.<name>.part<N> = ' as X archive files do")
    lines = _Lines(text)
    i = _skip(text, match.end())
    if i >= len(text) or text[i] != "[":
        raise ImportFormatError(where, lines.at(i), "expected a JSON array after the assignment")
    items: list[_Item] = []
    i = _skip(text, i + 1)
    if i < len(text) and text[i] == "]":
        return items
    while True:
        try:
            value, end = boundary.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(where, f"line {exc.lineno}, column {exc.colno}",
                                    f"invalid JSON ({exc.msg}); the file may be "
                                    "truncated") from None
        except JsonProblem as exc:
            raise ImportFormatError(where, f"{lines.at(i)}, item {len(items)}",
                                    f"refused JSON: {exc}") from None
        items.append(_Item(where, lines.line(i), len(items), value))
        i = _skip(text, end)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
            continue
        if i < len(text) and text[i] == "]":
            break
        problem = "the file ends inside the array" if i >= len(text) else \
            "expected ',' or ']' after an item"
        raise ImportFormatError(where, lines.at(i), f"invalid JSON ({problem}); the file may "
                                "be truncated")
    rest = text[i + 1:].strip(_WHITESPACE + ";")
    if rest:
        raise ImportFormatError(where, lines.at(i + 1), "unexpected text after the array")
    return items


class _Lines:
    """Line and column of an offset, counted incrementally (offsets only grow)."""

    def __init__(self, text: str) -> None:
        self.text, self._offset, self._line = text, 0, 1

    def line(self, offset: int) -> int:
        if offset < self._offset:
            self._offset, self._line = 0, 1
        self._line += self.text.count("\n", self._offset, offset)
        self._offset = offset
        return self._line

    def at(self, offset: int) -> str:
        line = self.line(min(offset, len(self.text)))
        column = offset - self.text.rfind("\n", 0, offset)
        return f"line {line}, column {column}"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _account_name(root: Path, files: dict[str, Callable[[], bytes]]) -> str | None:
    name = next((n for n in files if n.endswith("data/account.js") or n == "account.js"), None)
    if name is None:
        return None
    items = _load_js_array(root, name, files[name])
    try:
        username = items[0].value["account"]["username"]
    except (IndexError, KeyError, TypeError):
        raise ImportFormatError(_where(root, name), "item 0",
                                "has no account.username") from None
    try:
        return boundary.username(username, "account.username")
    except FieldError as exc:
        raise ImportFormatError(_where(root, name), f"line {items[0].line}, item 0",
                                exc.problem, field=exc.field) from None


def _latest_versions(author: str, items: list[_Item], now: datetime | None) -> list[Post]:
    """Parse items; of an edited post keep only its newest version, with its edit history."""
    by_initial: dict[str, Post] = {}
    for item in items:
        value = item.value
        tweet = value.get("tweet", value) if isinstance(value, dict) else None
        if not isinstance(tweet, dict):
            raise ImportFormatError(item.where, f"line {item.line}, item {item.index}",
                                    "expected an object {\"tweet\": ...}")
        raw_id = tweet.get("id_str", tweet.get("id"))
        tid = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) \
            and len(str(raw_id)) <= 25 else "?"
        try:
            post = _post_from_tweet(tweet, author, now)
        except FieldError as exc:
            raise ImportFormatError(item.where, f"line {item.line}, item {item.index} "
                                    f"(id {tid!s})", exc.problem,
                                    field=exc.field or None) from None
        initial = post.edit_history[0] if post.edit_history else post.post_id
        kept = by_initial.get(initial)
        if kept is None or int(post.post_id) > int(kept.post_id):
            by_initial[initial] = post
    return sorted(by_initial.values(), key=lambda p: (p.created_at, int(p.post_id)))


def _required(tweet: dict[str, Any], *names: str) -> tuple[str, Any]:
    for name in names:
        if tweet.get(name) is not None:
            return name, tweet[name]
    raise FieldError(names[0], f"missing {names[0]!r}")


def _post_from_tweet(tweet: dict[str, Any], author: str, now: datetime | None) -> Post:
    """One archive item -> Post; `FieldError` names the field at fault."""
    id_field, raw_id = _required(tweet, "id_str", "id")
    post_id = boundary.post_id(raw_id, id_field)
    text_field, raw_text = _required(tweet, "full_text", "text")
    text = html.unescape(boundary.text(raw_text, text_field))
    text = boundary.text(text, text_field)  # what the entities decode to is checked too
    date_field, raw_date = _required(tweet, "created_at")
    created = boundary.parse_date(raw_date, date_field, parse_twitter_date, DATE_EXAMPLE, now)
    entities = boundary.obj(tweet.get("entities"), "entities")
    urls: list[str] = []
    for i, raw_entry in enumerate(boundary.array(entities.get("urls"), "entities.urls")):
        field = f"entities.urls[{i}]"
        if not isinstance(raw_entry, dict):
            raise FieldError(field, "must be an object {\"url\": ..., \"expanded_url\": ...}")
        short = raw_entry.get("url")
        expanded = raw_entry.get("expanded_url") or short
        if expanded:
            urls.append(boundary.url(expanded, f"{field}.expanded_url"))
            if short:
                short = boundary.url(short, f"{field}.url")
                if short in text:
                    text = text.replace(short, urls[-1])
    text = boundary.text(text, text_field)  # links expanded: still within bounds
    tags: list[str] = []
    for i, h in enumerate(boundary.array(entities.get("hashtags"), "entities.hashtags")):
        entry = boundary.obj(h, f"entities.hashtags[{i}]")
        if entry.get("text") is not None:
            tags.append(boundary.tag(entry["text"], f"entities.hashtags[{i}].text"))
    mentioned: list[str] = []
    for i, m in enumerate(boundary.array(entities.get("user_mentions"),
                                         "entities.user_mentions")):
        entry = boundary.obj(m, f"entities.user_mentions[{i}]")
        if entry.get("screen_name") is not None:
            mentioned.append(boundary.tag(entry["screen_name"],
                                          f"entities.user_mentions[{i}].screen_name"))
    extended = boundary.obj(tweet.get("extended_entities"), "extended_entities")
    media = [*boundary.array(entities.get("media"), "entities.media"),
             *boundary.array(extended.get("media"), "extended_entities.media")]
    if not text.strip() and not urls and not media:
        raise FieldError(text_field, "is empty, and the post has neither a link nor media: X "
                                     "allows link- or media-only posts, not empty ones")
    kind = PostKind.ORIGINAL
    ref_ids: tuple[str, ...] = ()
    ref_accounts: tuple[str, ...] = ()
    rt_of = retweeted_account(text)
    reply_to = boundary.optional_id(tweet.get("in_reply_to_status_id_str"),
                                    "in_reply_to_status_id_str")
    reply_name = boundary.optional_username(tweet.get("in_reply_to_screen_name"),
                                            "in_reply_to_screen_name")
    if rt_of:
        kind, ref_accounts = PostKind.RETWEET, (rt_of,)
    else:
        quoted = next((link for link in map(status_link, urls) if link), None)
        if quoted:
            kind, ref_accounts, ref_ids = PostKind.QUOTE, (quoted[0],), (quoted[1],)
        elif reply_to:
            kind = PostKind.REPLY
            ref_ids = (reply_to,)
            if reply_name:
                ref_accounts = (reply_name,)
    edit_ids: tuple[str, ...] = ()
    edit_info = boundary.obj(tweet.get("edit_info"), "edit_info")
    # The first version carries `initial.editTweetIds`; later ones carry the same list under
    # `edit.editControlInitial` (real exports), or directly under `edit` in some older ones.
    edit = boundary.obj(edit_info.get("edit"), "edit_info.edit")
    holders = (("edit_info.initial", edit_info.get("initial")),
               ("edit_info.edit.editControlInitial", edit.get("editControlInitial")),
               ("edit_info.edit", edit))
    for field, holder in holders:
        ids = boundary.obj(holder, field).get("editTweetIds")
        if ids:
            edit_ids = boundary.id_list(ids, f"{field}.editTweetIds")
            break
    return Post(post_id=post_id, account=author, created_at=created, text=text,
                lang=boundary.lang(tweet.get("lang"), "lang"), kind=kind,
                referenced_ids=ref_ids, referenced_accounts=ref_accounts, urls=tuple(urls),
                hashtags=tuple(tags) or hashtags(text), mentions=tuple(mentioned),
                edit_history=edit_ids if len(edit_ids) > 1 else ())
