"""The voice path: what the executive writes of their own, beside the overlap rate (pure).

Executives move from watching, to relaying (retweets), to writing their own posts; an account
that only broadcasts and never answers disappoints. So per period: how many own posts,
retweets, bare quotes and quotes with a comment, replies to others (and replies within their
own threads, which are not conversation), the reply rate (replies to others / posts), and the
silent days (local days without any post).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from monitor.analysis.text import terms
from monitor.i18n import VOICE_KINDS
from monitor.models import Post, PostKind

# A quote whose own text has at least this many content words adds a comment of its own.
COMMENT_WORDS = 3


def voice_kind(post: Post, subkinds: Mapping[str, str | None] | None = None) -> str:
    """One of VOICE_KINDS for an executive post."""
    if post.kind is PostKind.RETWEET:
        return "retweet"
    if post.kind is PostKind.QUOTE:
        known = (subkinds or {}).get(post.post_id)
        if known in ("quote", "quote-comment"):
            return known
        if known == "retweet":
            return "quote"
        return "quote-comment" if len(terms(post.text)) >= COMMENT_WORDS else "quote"
    if post.kind is PostKind.REPLY:
        others = [a for a in post.referenced_accounts if a.casefold() != post.account.casefold()]
        # A reply with no named account is to someone else: X names the author replied to.
        return "thread" if post.referenced_accounts and not others else "reply"
    return "own"


def _counts() -> dict[str, int]:
    return dict.fromkeys(VOICE_KINDS, 0)


@dataclass(frozen=True)
class VoiceWeek:
    start: date
    counts: dict[str, int] = field(default_factory=_counts)

    @property
    def posts(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class VoicePath:
    start: date  # first local day of the period
    end: date  # last local day (inclusive)
    counts: dict[str, int]
    days: int
    silent_days: int
    weeks: list[VoiceWeek]

    @property
    def posts(self) -> int:
        return sum(self.counts.values())

    @property
    def reply_rate(self) -> float | None:
        """Replies to others per post: answers against broadcasts."""
        return self.counts["reply"] / self.posts if self.posts else None

    @property
    def own_share(self) -> float | None:
        """Own posts and quotes with a comment: what the executive writes themselves."""
        return ((self.counts["own"] + self.counts["quote-comment"]) / self.posts
                if self.posts else None)


def voice_path(posts: Iterable[Post], start: datetime, end: datetime, tz: tzinfo, *,
               subkinds: Mapping[str, str | None] | None = None) -> VoicePath:
    """The voice path of the executive posts in [start, end), days counted in `tz`."""
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    last = max(last, first)
    counts = _counts()
    weeks: dict[date, VoiceWeek] = {}
    active: set[date] = set()
    for post in posts:
        day = post.created_at.astimezone(tz).date()
        kind = voice_kind(post, subkinds)
        counts[kind] += 1
        active.add(day)
        monday = day - timedelta(days=day.weekday())
        weeks.setdefault(monday, VoiceWeek(monday)).counts[kind] += 1
    days = (last - first).days + 1
    cursor = first - timedelta(days=first.weekday())
    series: list[VoiceWeek] = []
    while cursor <= last:
        series.append(weeks.get(cursor) or VoiceWeek(cursor))
        cursor += timedelta(days=7)
    silent = sum(1 for i in range(days) if first + timedelta(days=i) not in active)
    return VoicePath(first, last, counts, days, silent, series)

