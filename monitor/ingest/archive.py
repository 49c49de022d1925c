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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import ImportFormatError
from monitor.ingest.entities import (
    hashtags,
    parse_twitter_date,
    retweeted_account,
    status_link,
)
from monitor.models import Post, PostKind

_ASSIGNMENT = re.compile(r"^\s*window\.YTD\.(\w+)\.part(\d+)\s*=\s*")
_TWEET_FILE = re.compile(r"(?:^|/)data/(tweets?)(?:-part(\d+))?\.js$")


@dataclass(frozen=True)
class ArchiveContents:
    """What an archive holds: its account (if it says) and its posts (latest versions)."""

    account: str | None
    posts: list[Post]


def read_archive(path: str | Path, account: str | None = None) -> ArchiveContents:
    """Read an export given as a .zip, its extracted folder, or a single tweets.js file.

    `account` names the author when the archive does not (a lone tweets.js); when the archive
    names its account, that name wins unless they disagree, which is an error.
    """
    path = Path(path)
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
    if named and account and named.casefold() != account.removeprefix("@").casefold():
        raise ImportFormatError(str(path), "data/account.js",
                                f"the archive belongs to @{named}, not @{account}")
    author = named or (account.removeprefix("@") if account else None)
    if not author:
        raise ImportFormatError(str(path), "archive",
                                "does not name its account (no data/account.js); pass "
                                "--account USERNAME")
    items: list[tuple[str, int, dict[str, Any]]] = []
    for name in tweet_files:
        for index, item in enumerate(_load_js_array(path, name, files[name])):
            items.append((name, index, item))
    return ArchiveContents(account=named, posts=_latest_versions(path, author, items))


def _archive_files(path: Path) -> dict[str, Callable[[], bytes]]:
    """Relative name -> reader, for a zip, a folder, or a single file."""
    if path.is_file() and zipfile.is_zipfile(path):
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise ImportFormatError(str(path), "zip", f"is damaged ({exc})") from None
        def reader(name: str) -> Callable[[], bytes]:
            return lambda: archive.read(name)

        return {info.filename: reader(info.filename)
                for info in archive.infolist() if not info.is_dir()}
    if path.is_file():
        if path.suffix == ".zip":
            raise ImportFormatError(str(path), "zip", "is not a valid zip file (truncated?)")
        return {path.name: path.read_bytes}
    out: dict[str, Callable[[], bytes]] = {}
    for file in path.rglob("*.js"):
        out[file.relative_to(path).as_posix()] = file.read_bytes
    return out


def _part_number(name: str) -> tuple[int, str]:
    match = _TWEET_FILE.search("/" + name)
    return (int(match.group(2) or 0) if match else 0, name)


def _load_js_array(root: Path, name: str, read: Callable[[], bytes]) -> list[Any]:
    where = str(root) if root.name == name else f"{root}!{name}" if root.is_file() else \
        str(root / name)
    try:
        text = read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(where, f"byte {exc.start}", "not valid UTF-8") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ImportFormatError(where, "file", f"cannot be read ({exc})") from None
    match = _ASSIGNMENT.match(text)
    if not match:
        raise ImportFormatError(where, "line 1", "does not start with "
                                "'window.YTD.<name>.part<N> = ' as X archive files do")
    offset = match.end()
    try:
        data = json.loads(text[offset:])
    except json.JSONDecodeError as exc:
        line = exc.lineno
        column = exc.colno + (offset if line == 1 else 0)
        raise ImportFormatError(where, f"line {line}, column {column}",
                                f"invalid JSON ({exc.msg}); the file may be truncated") from None
    if not isinstance(data, list):
        raise ImportFormatError(where, "line 1", "expected a JSON array after the assignment")
    return data


def _account_name(root: Path, files: dict[str, Callable[[], bytes]]) -> str | None:
    name = next((n for n in files if n.endswith("data/account.js") or n == "account.js"), None)
    if name is None:
        return None
    data = _load_js_array(root, name, files[name])
    try:
        username = data[0]["account"]["username"]
    except (IndexError, KeyError, TypeError):
        raise ImportFormatError(f"{root}!{name}", "item 0",
                                "has no account.username") from None
    return str(username)


def _latest_versions(root: Path, author: str,
                     items: list[tuple[str, int, dict[str, Any]]]) -> list[Post]:
    """Parse items; of an edited post keep only its newest version, with its edit history."""
    by_initial: dict[str, Post] = {}
    for name, index, item in items:
        where = f"{root}!{name}" if root.is_file() and root.name != name else str(root / name) \
            if root.is_dir() else str(root)
        tweet = item.get("tweet", item) if isinstance(item, dict) else None
        if not isinstance(tweet, dict):
            raise ImportFormatError(where, f"item {index}", "expected an object {\"tweet\": ...}")
        try:
            post = _post_from_tweet(tweet, author)
        except (KeyError, ValueError, TypeError) as exc:
            tid = tweet.get("id_str") or tweet.get("id") or "?"
            problem = f"missing {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
            raise ImportFormatError(where, f"item {index} (id {tid})", problem) from None
        initial = post.edit_history[0] if post.edit_history else post.post_id
        kept = by_initial.get(initial)
        if kept is None or int(post.post_id) > int(kept.post_id):
            by_initial[initial] = post
    return sorted(by_initial.values(), key=lambda p: (p.created_at, int(p.post_id)))


def _post_from_tweet(tweet: dict[str, Any], author: str) -> Post:
    post_id = str(tweet["id_str"] if "id_str" in tweet else tweet["id"])
    if not post_id.isdigit():
        raise ValueError(f"id {post_id!r} is not numeric")
    raw_text = tweet["full_text"] if "full_text" in tweet else tweet["text"]
    text = html.unescape(str(raw_text))
    created = parse_twitter_date(str(tweet["created_at"]))
    entities = tweet.get("entities") or {}
    urls: list[str] = []
    for entry in entities.get("urls") or []:
        expanded = entry.get("expanded_url") or entry.get("url")
        if expanded:
            urls.append(str(expanded))
            short = entry.get("url")
            if short and short in text:
                text = text.replace(short, str(expanded))
    tags = tuple(str(h["text"]) for h in entities.get("hashtags") or [] if "text" in h) \
        or hashtags(text)
    mentioned = tuple(str(m["screen_name"]) for m in entities.get("user_mentions") or []
                      if "screen_name" in m)
    kind = PostKind.ORIGINAL
    ref_ids: tuple[str, ...] = ()
    ref_accounts: tuple[str, ...] = ()
    rt_of = retweeted_account(text)
    if rt_of:
        kind, ref_accounts = PostKind.RETWEET, (rt_of,)
    else:
        quoted = next((link for link in map(status_link, urls) if link), None)
        if quoted:
            kind, ref_accounts, ref_ids = PostKind.QUOTE, (quoted[0],), (quoted[1],)
        elif tweet.get("in_reply_to_status_id_str"):
            kind = PostKind.REPLY
            ref_ids = (str(tweet["in_reply_to_status_id_str"]),)
            if tweet.get("in_reply_to_screen_name"):
                ref_accounts = (str(tweet["in_reply_to_screen_name"]),)
    edit_ids: tuple[str, ...] = ()
    edit_info = tweet.get("edit_info") or {}
    # The first version carries `initial.editTweetIds`; later ones carry the same list under
    # `edit.editControlInitial` (real exports), or directly under `edit` in some older ones.
    edit = edit_info.get("edit") or {}
    for holder in (edit_info.get("initial"), edit.get("editControlInitial"), edit):
        ids = (holder or {}).get("editTweetIds")
        if ids:
            edit_ids = tuple(str(i) for i in ids)
            break
    return Post(post_id=post_id, account=author, created_at=created, text=text,
                lang=tweet.get("lang") or None, kind=kind, referenced_ids=ref_ids,
                referenced_accounts=ref_accounts, urls=tuple(urls), hashtags=tags,
                mentions=mentioned, edit_history=edit_ids if len(edit_ids) > 1 else ())
