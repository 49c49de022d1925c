"""The monitor's documented limits, in one place (README, "Limits", states each of them).

Every value a user types or a file or X sends is checked against these at the boundary (the
importers, the configuration, the command line, the dashboard), so nothing past them reaches
the store, the scheduler or datetime arithmetic, where it would end in an OverflowError.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# -- post dates ----------------------------------------------------------------------------------
#: X (then twttr) went live on 2006-03-21: an older post date is a broken export or a typo.
FIRST_POST_TIME = datetime(2006, 3, 21, tzinfo=UTC)
#: Clocks drift and time zones confuse; more than this ahead of now is a wrong date.
FUTURE_SLACK = timedelta(days=1)


def latest_post_time(now: datetime | None = None) -> datetime:
    """The newest date a post may carry: now plus a day of slack."""
    return (now or datetime.now(UTC)) + FUTURE_SLACK


def post_time_problem(moment: datetime, now: datetime | None = None) -> str | None:
    """Why `moment` cannot be a post's date, or None when it can."""
    if moment < FIRST_POST_TIME:
        return (f"{moment:%Y-%m-%d} is before X existed (posts start on "
                f"{FIRST_POST_TIME:%Y-%m-%d})")
    latest = latest_post_time(now)
    if moment > latest:
        return (f"{moment:%Y-%m-%d %H:%M} UTC is more than a day in the future (now is "
                f"{latest - FUTURE_SLACK:%Y-%m-%d %H:%M} UTC)")
    return None


# -- moments and durations typed by people (options, settings, the dashboard) ----------------
#: Moments a user may give (--since, --until, --at, silence --until, --date): wide enough for
#: any real use, far enough inside datetime's years 1..9999 that no arithmetic overflows.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
#: The longest duration any option or setting accepts (a century).
MAX_DURATION = timedelta(days=36_500)

# -- sizes of imported data ----------------------------------------------------------------------
MAX_FILE_BYTES = 1 << 30  # one JSONL file, or one file inside an archive: 1 GiB
MAX_LINE_BYTES = 1 << 20  # one JSONL line (one post): 1 MiB
MAX_TEXT_CHARS = 100_000  # X's own maximum is 25,000 (long posts); more is not a post
MAX_ID_DIGITS = 19  # X ids are 64-bit snowflakes
MAX_ID = 2**63 - 1
MAX_USERNAME_CHARS = 50  # X allows 15; older exports carry up to 50
MAX_LANG_CHARS = 16  # BCP 47 tags X uses: "fr", "en", "und", "zh-cn", "qme"
MAX_URL_CHARS = 4096
MAX_LIST_ITEMS = 100  # links, hashtags or mentions of one post
MAX_EDIT_VERSIONS = 20  # X allows 5 edits, so 6 versions
MAX_JSON_DEPTH = 64  # nothing in a post nests deeper than a few levels
MAX_INT_DIGITS = 40  # a JSON number longer than this is no id, count or flag of a post

# -- configuration -------------------------------------------------------------------------------
MAX_CONFIG_BYTES = 1 << 20  # monitor.toml (and .env): 1 MiB

# -- X --------------------------------------------------------------------------------------------
#: X serves only the newest 3,200 posts of a timeline; older ones need the account's archive.
TIMELINE_CAP = 3200
