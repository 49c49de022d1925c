"""The dashboard's query parameters, parsed (the pages' content comes from `monitor.app`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from monitor.errors import UsageError
from monitor.models import PostClass
from monitor.timeparse import SINCE, UNTIL, local, parse_moment

log = logging.getLogger(__name__)
DEFAULT_SINCE = "90d"
FLAGGED = (PostClass.OFF_LIMITS, PostClass.ECHO, PostClass.OVERLAP, PostClass.RECYCLED,
           PostClass.AMPLIFIED, PostClass.OFF_LINE)


@dataclass(frozen=True)
class Period:
    since_text: str
    until_text: str
    since: datetime
    until: datetime | None


def period(query: dict[str, str], now: datetime, zone: tzinfo = UTC,
           zone_name: str = "UTC") -> Period:
    """The period a page shows; dates without an offset are in `zone` (the monitor's)."""
    since_text = query.get("since") or DEFAULT_SINCE
    until_text = query.get("until") or ""
    # The one bounded parser: ?since=1e400d is a 400 that says what is accepted, never a 500.
    until = (parse_moment(until_text, now, what="until", syntax=local(UNTIL, zone, zone_name))
             if until_text else None)
    since = parse_moment(since_text, now, what="since", syntax=local(SINCE, zone, zone_name))
    if until is not None and since >= until:
        raise UsageError(f"since {since_text!r} is not before until {until_text!r}: give a "
                         "start before the end.")
    return Period(since_text, until_text, since, until)


