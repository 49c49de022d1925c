"""Relations by id, by retweet prefix and by shared link, in both directions (pure).

These need no similarity, so they judge every post, even "👍" or a bare link:

- the executive retweets or quotes a corporate post (echo; a quote that adds a comment of the
  executive's own is told apart from a bare relay);
- the brand retweets or quotes the executive's post (the executive's post is *amplified*);
- both share a link: who posted it first decides the direction (the executive after the brand:
  echo; the brand after the executive: amplified).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from monitor.analysis.links import link_set
from monitor.models import Post, PostKind

RT_PREFIX = re.compile(r"^RT @(\w+):\s*")
DAY = 86400.0


@dataclass(frozen=True)
class Relation:
    subkind: str  # "retweet", "quote", "link"
    target: Post | None  # the other side's post, when known
    reason: str
    days_apart: float | None = None  # signed: this post minus the other (negative: it came first)


def _retweeted_post(post: Post, account: str, others: Sequence[Post]) -> Post | None:
    """The post an archive retweet copies (archives give no id, only the text)."""
    body = RT_PREFIX.sub("", post.text).rstrip("…").rstrip(".").strip()
    if post.kind != PostKind.RETWEET or len(body) < 20:
        return None
    key = body[:100]
    best = None
    for cand in others:
        if (cand.account.casefold() == account.casefold() and cand.created_at <= post.created_at
                and cand.text.startswith(key)):
            best = cand  # sorted by time: the latest matching post wins
    return best


def relay_of(post: Post, accounts: set[str], by_id: Mapping[str, Post],
             posts: Sequence[Post]) -> tuple[str, Post | None, str] | None:
    """(subkind, target, account) when `post` retweets or quotes a post of `accounts`."""
    if post.kind not in (PostKind.RETWEET, PostKind.QUOTE):
        return None
    verb = "retweet" if post.kind == PostKind.RETWEET else "quote"
    for ref in post.referenced_ids:
        if ref in by_id and by_id[ref].account.casefold() in accounts:
            return verb, by_id[ref], by_id[ref].account
    for account in post.referenced_accounts:
        if account.casefold() in accounts:
            return verb, _retweeted_post(post, account, posts), account
    return None


def amplifiers(exec_posts: Sequence[Post], corp_posts: Sequence[Post],
               executives: set[str]) -> dict[int, Post]:
    """Executive post index -> the corporate post that retweets or quotes it."""
    exec_by_id = {p.post_id: i for i, p in enumerate(exec_posts)}
    out: dict[int, Post] = {}
    for c in corp_posts:
        if c.kind not in (PostKind.RETWEET, PostKind.QUOTE):
            continue
        hit = next((exec_by_id[r] for r in c.referenced_ids if r in exec_by_id), None)
        if hit is None and c.kind == PostKind.RETWEET:
            who = next((a for a in c.referenced_accounts if a.casefold() in executives), None)
            if who is not None:
                body = RT_PREFIX.sub("", c.text).rstrip("…").strip()[:100]
                if len(body) >= 20:
                    hit = next((i for i, e in enumerate(exec_posts)
                                if e.account.casefold() == who.casefold()
                                and e.created_at <= c.created_at and e.text.startswith(body)),
                               None)
        if hit is not None and hit not in out:
            out[hit] = c
    return out


def shared_link(post: Post, when: float, horizon: float, corp_posts: Sequence[Post],
                corp_times: np.ndarray, corp_links: Sequence[frozenset[str]],
                eligible: np.ndarray, resolve: Mapping[str, str] | None) -> Relation | None:
    """The nearest-in-time corporate post within ±horizon sharing a link with `post`."""
    mine = link_set(post.urls, resolve)
    if not mine:
        return None
    lo = int(np.searchsorted(corp_times, when - horizon, side="left"))
    hi = int(np.searchsorted(corp_times, when + horizon, side="right"))
    best: tuple[float, int] | None = None
    for j in range(lo, hi):
        if eligible[j] and mine & corp_links[j]:
            gap = abs(corp_times[j] - when)
            if best is None or gap < best[0]:
                best = (gap, j)
    if best is None:
        return None
    target = corp_posts[best[1]]
    link = sorted(mine & corp_links[best[1]])[0]
    days = (when - corp_times[best[1]]) / DAY
    return Relation("link", target, link, round(float(days), 2))


def _retweet_key(post: Post) -> tuple[str, ...]:
    """What identifies the post a retweet relays: its id, else its account and first words."""
    keys = tuple(f"id:{r}" for r in post.referenced_ids)
    match = RT_PREFIX.match(post.text)
    if match:
        body = RT_PREFIX.sub("", post.text).rstrip("…").strip()
        if len(body) >= 20:
            keys += (f"text:{match.group(1).casefold()}:{body[:60].casefold()}",)
    return keys


def shared_retweet(post: Post, when: float, horizon: float, corp_posts: Sequence[Post],
                   corp_times: np.ndarray) -> Relation | None:
    """The nearest-in-time corporate retweet within ±horizon of the same third-party post."""
    if post.kind != PostKind.RETWEET:
        return None
    mine = set(_retweet_key(post))
    if not mine:
        return None
    lo = int(np.searchsorted(corp_times, when - horizon, side="left"))
    hi = int(np.searchsorted(corp_times, when + horizon, side="right"))
    best: tuple[float, int] | None = None
    for j in range(lo, hi):
        other = corp_posts[j]
        if other.kind == PostKind.RETWEET and mine & set(_retweet_key(other)):
            gap = abs(corp_times[j] - when)
            if best is None or gap < best[0]:
                best = (gap, j)
    if best is None:
        return None
    target = corp_posts[best[1]]
    who = RT_PREFIX.match(post.text)
    source = f"@{who.group(1)}" if who else "another account"
    return Relation("co-retweet", target, source,
                    round(float((when - corp_times[best[1]]) / DAY), 2))
