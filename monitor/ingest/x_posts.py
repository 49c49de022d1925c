"""Reshaping X API v2 answers into `Post`s (pure: no HTTP, no tweepy, no store).

A timeline page is `data` (the posts), `includes.tweets` (the posts they retweet, quote or reply
to) and `includes.users` (their authors); this turns each post into the monitor's `Post`, with
the full text of retweets that X cuts, t.co links expanded and HTML entities decoded, so posts
read the same whether they came from the API or from an archive.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.ingest import boundary
from monitor.ingest.entities import parse_iso
from monitor.models import Post, PostKind

KIND_BY_REF = {"retweeted": PostKind.RETWEET, "quoted": PostKind.QUOTE,
               "replied_to": PostKind.REPLY}


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """One page of a timeline, newest first. `reads` is what X bills: posts returned."""

    posts: tuple[Post, ...]
    reads: int
    newest_id: str | None
    oldest_id: str | None
    next_token: str | None
    owner_username: str | None


def parse_page(body: Mapping[str, Any], account: str) -> TimelinePage:
    """X's timeline JSON -> a page of Posts; KeyError/TypeError/ValueError if malformed."""
    meta = body["meta"]
    data = body.get("data") or []
    if not isinstance(data, list) or not isinstance(meta, dict):
        raise TypeError("'data' must be a list and 'meta' an object")
    includes = body.get("includes") or {}
    tweets = {str(t["id"]): t for t in includes.get("tweets") or []}
    users = {str(u["id"]): boundary.username(u["username"], "includes.users.username")
             for u in includes.get("users") or []}
    owner = next((users[str(t["author_id"])] for t in data
                  if str(t.get("author_id")) in users), None)
    posts = tuple(post_from_api(t, owner or account, tweets, users) for t in data)
    ids = sorted((p.post_id for p in posts), key=int)
    return TimelinePage(posts=posts, reads=len(data), newest_id=ids[-1] if ids else None,
                        oldest_id=ids[0] if ids else None, next_token=meta.get("next_token"),
                        owner_username=owner)


def post_from_api(tweet: Mapping[str, Any], account: str, tweets: Mapping[str, Any],
                  users: Mapping[str, str]) -> Post:
    """One X v2 tweet object (with the page's includes) -> Post."""
    # The same boundary checks as the importers (FieldError is a ValueError: a malformed page).
    post_id = boundary.post_id(tweet["id"], "id")
    created = boundary.parse_date(tweet["created_at"], "created_at", parse_iso, "ISO-8601",
                                  None)
    refs = [(str(r["type"]), boundary.post_id(r["id"], "referenced_tweets.id"))
            for r in tweet.get("referenced_tweets") or []]
    # A retweet is the plainest relation, then a quote (which may also be a reply).
    refs.sort(key=lambda r: list(KIND_BY_REF).index(r[0]) if r[0] in KIND_BY_REF else 9)
    kind = KIND_BY_REF.get(refs[0][0], PostKind.ORIGINAL) if refs else PostKind.ORIGINAL
    ref_accounts = [users[str(tweets[rid]["author_id"])] for _, rid in refs
                    if rid in tweets and str(tweets[rid].get("author_id")) in users]
    entities = tweet.get("entities") or {}
    text = _expand(str(tweet["text"]), entities)
    if kind == PostKind.RETWEET and refs[0][1] in tweets:
        # X cuts a retweet's text to "RT @x: ..." at 140 characters; the original is whole.
        original = tweets[refs[0][1]]
        author = users.get(str(original.get("author_id"))) or _rt_author(text)
        original_entities = original.get("entities") or {}
        text = f"RT @{author}: " + _expand(str(original["text"]), original_entities)
        entities = _merge(entities, original_entities)
    edits = boundary.id_list(tweet.get("edit_history_tweet_ids"), "edit_history_tweet_ids")
    try:
        lang = boundary.lang(tweet.get("lang"), "lang")
    except boundary.FieldError:  # an odd tag from X must not refuse the page: unknown
        lang = None
    return Post(
        post_id=post_id, account=account, created_at=created,
        text=_repair(text), lang=lang, kind=kind,
        referenced_ids=tuple(dict.fromkeys(rid for _, rid in refs)),
        referenced_accounts=tuple(dict.fromkeys(ref_accounts)),
        urls=tuple(dict.fromkeys(str(u.get("expanded_url") or u["url"])
                                 for u in entities.get("urls") or [])),
        hashtags=tuple(dict.fromkeys(str(h["tag"]) for h in entities.get("hashtags") or [])),
        mentions=tuple(dict.fromkeys(str(m["username"])
                                     for m in entities.get("mentions") or [])),
        edit_history=edits if len(edits) > 1 else (),
        author_id=str(tweet["author_id"]) if tweet.get("author_id") else None)


def _expand(text: str, entities: Mapping[str, Any]) -> str:
    """X escapes &, < and > in v2 text; links are t.co: store the readable, expanded text,
    as the archive importer does, so one post reads the same from either source."""
    text = html.unescape(text)
    for url in entities.get("urls") or []:
        short, full = url.get("url"), url.get("expanded_url")
        if short and full:
            text = text.replace(str(short), str(full))
    return text


def _repair(text: str) -> str:
    """X is the authority on its posts: characters no store can keep (a lone surrogate from a
    \\ud800 escape, NUL) are replaced rather than refusing the page forever."""
    return boundary.BAD_CHAR.sub("\ufffd", text)


def _merge(own: Mapping[str, Any], original: Mapping[str, Any]) -> dict[str, Any]:
    return {key: [*(own.get(key) or []), *(original.get(key) or [])]
            for key in ("urls", "hashtags", "mentions")}


def _rt_author(text: str) -> str:
    return text[4:].split(":", 1)[0] if text.startswith("RT @") else "unknown"
