"""Pure reshaping shared by the importers: dates, entities, retweet and quote detection."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# X usernames: 1-15 ASCII word characters (older accounts up to 50 in exports; be lenient).
# ASCII only: `\d` alone would take "²" for a digit of a post id.
RT_PREFIX = re.compile(r"^RT @(\w{1,50}):\s?", re.ASCII)
STATUS_URL = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter\.com|x\.com)/(\w{1,50})/status(?:es)?/"
    r"([0-9]{1,19})(?![0-9])", re.IGNORECASE | re.ASCII)
HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
MENTION = re.compile(r"(?<![\w])@(\w{1,50})")
URL = re.compile(r"https?://\S+")


def parse_iso(value: str) -> datetime:
    """ISO-8601 -> aware UTC datetime; a naive value is taken as UTC. Raises ValueError."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_twitter_date(value: str) -> datetime:
    """'Wed Oct 10 20:19:24 +0000 2018' (archive format) -> aware UTC datetime."""
    return datetime.strptime(value.strip(), "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)


def retweeted_account(text: str) -> str | None:
    match = RT_PREFIX.match(text)
    return match.group(1) if match else None


def status_link(url: str) -> tuple[str, str] | None:
    """(username, status id) when `url` points at a post on X/Twitter."""
    match = STATUS_URL.match(url.strip())
    if not match or not 0 < int(match.group(2)) < 2**63:  # not an id X can have: a plain link
        return None
    return match.group(1), str(int(match.group(2)))


def hashtags(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(HASHTAG.findall(text)))


def mentions(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(MENTION.findall(text)))
