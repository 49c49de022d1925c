"""The one parser of durations and moments that people type.

Every option, setting and query parameter that takes a duration (`ingest_every`, `30d`) or a
moment (`--since`, `--until`, `--at`, `silence --until`, `--date`, the dashboard's `?since=`)
goes through here. Values are bounded (`monitor.limits`): a duration is at most a century and a
moment lies in 1900..2999, so no later arithmetic can overflow, and `inf`, `nan`, `1e400` or a
thousand digits are refused with the option's name and what it accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from monitor.errors import MonitorError, UsageError
from monitor.limits import EARLIEST_MOMENT, LATEST_MOMENT, MAX_DURATION

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# ASCII digits only (`\d` would take "²" or Arabic-Indic digits), a bounded number of them,
# no exponent: "1e400", "inf" and "nan" are no durations.
_DURATION = re.compile(r"([0-9]{1,12}(?:\.[0-9]{0,9})?|\.[0-9]{1,9})\s*([smhdw])", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_LOOKS_LIKE_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}(-|$)", re.ASCII)
MAX_TEXT = 64  # the longest moment anyone types: "2026-09-01T08:00:00.000000+02:00"
DURATION_EXAMPLES = "a number and a unit: 90s, 30m, 24h, 7d or 2w"
NO_OFFSET_UTC = "UTC unless it gives an offset"


def _shown(text: str) -> str:
    return repr(text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…")


def _fmt(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    for unit in ("w", "d", "h", "m"):
        if seconds >= UNITS[unit] and seconds % UNITS[unit] == 0:
            return f"{seconds / UNITS[unit]:g}{unit}"
    return f"{seconds:g}s"


def parse_duration(text: str, *, what: str, minimum: timedelta = timedelta(seconds=1),
                   maximum: timedelta = MAX_DURATION,
                   error: type[MonitorError] = UsageError) -> timedelta:
    """'30m', '24h', '7d', '90s', '2w' -> a timedelta within [minimum, maximum]; `error`
    (UsageError by default, ConfigError for settings) names `what` otherwise."""
    if not isinstance(text, str):
        raise error(f"{what} must be a duration written as text, {DURATION_EXAMPLES}.")
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise error(f"{what} {_shown(text)} is not a duration: use {DURATION_EXAMPLES}.")
    seconds = float(match.group(1)) * UNITS[match.group(2)]
    if seconds > maximum.total_seconds():
        raise error(f"{what} {_shown(text)} is too long: at most {_fmt(maximum)}.")
    if seconds < minimum.total_seconds():
        raise error(f"{what} {_shown(text)} is too short: at least {_fmt(minimum)}.")
    return timedelta(seconds=seconds)


def is_duration(text: str) -> bool:
    """Whether `text` is written as a duration (whatever its size)."""
    return bool(_DURATION.fullmatch(text.strip().lower()))


@dataclass(frozen=True)
class MomentSyntax:
    """What one option accepts, so its error says exactly that."""

    durations: Literal["past", "future"] | None  # a duration back from, or ahead of, now
    examples: str = "30d, 12w, 24h"
    lead_with_duration: bool = True  # --since is mostly a duration, --until mostly a date
    zone: tzinfo = UTC  # the zone of a date or a date and time without an offset
    zone_name: str = "UTC"

    def accepted(self) -> str:
        zone = NO_OFFSET_UTC if self.zone_name == "UTC" else (
            f"{self.zone_name} unless it gives an offset")
        parts = [f"a date (2026-09-01, midnight {self.zone_name})",
                 f"a date and time (2026-09-01T08:00, {zone})"]
        if self.durations is not None:
            way = "back from now" if self.durations == "past" else "from now"
            duration = f"a duration {way} ({self.examples})"
            if self.lead_with_duration:
                parts.insert(0, duration)
            else:
                parts.append(duration)
        return ", ".join(parts[:-1]) + " or " + parts[-1]


#: --since (and the dashboard's ?since=): mostly "30d".
SINCE = MomentSyntax(durations="past")
#: --until (and ?until=), check --at: mostly a date.
UNTIL = MomentSyntax(durations="past", examples="7d", lead_with_duration=False)
AT = MomentSyntax(durations="past", examples="3d", lead_with_duration=False)
PAST = SINCE
# Written like a duration but not one: "1e400d", "infm", "-5d", "1_000s".
_DURATION_LIKE = re.compile(r"[0-9a-z.+_-]+\s*[smhdw]", re.ASCII)


def future(zone: tzinfo, zone_name: str) -> MomentSyntax:
    """silence --until: a date at local midnight, a local date and time, or 7d from now."""
    return MomentSyntax(durations="future", examples="7d, 12h", lead_with_duration=False,
                        zone=zone, zone_name=zone_name)


def parse_moment(text: str, now: datetime, *, what: str, syntax: MomentSyntax = PAST,
                 error: type[MonitorError] = UsageError) -> datetime:
    """A moment typed by a person -> an aware datetime within 1900..2999.

    Accepts what `syntax` says: a duration (back from now, or ahead), a date (midnight in the
    syntax's zone) or an ISO date and time (that zone unless it gives an offset).
    """
    accepted = f"{what} takes {syntax.accepted()}."
    if not isinstance(text, str) or not text.strip():
        raise error(f"{what} is empty: {accepted}")
    raw = text.strip()
    if len(raw) > MAX_TEXT:
        raise error(f"{what} {_shown(raw)} is too long to be a moment: {accepted}")
    if is_duration(raw):
        if syntax.durations is None:
            raise error(f"{what} {_shown(raw)} is a duration: {accepted}")
        delta = parse_duration(raw, what=what, error=error)
        moment = now - delta if syntax.durations == "past" else now + delta
        return _bounded(moment, raw, what, accepted, error)
    try:
        if _DATE.fullmatch(raw):
            moment = datetime.combine(date.fromisoformat(raw), time(0), syntax.zone)
        else:
            moment = datetime.fromisoformat(raw[:-1] + "+00:00" if raw[-1] in "zZ" else raw)
    except ValueError as exc:
        if _LOOKS_LIKE_DATE.match(raw):
            raise error(f"{what} {_shown(raw)} is not a real date or time ({exc}): "
                        f"{accepted}") from None
        if syntax.durations and _DURATION_LIKE.fullmatch(raw.lower()):
            raise error(f"{what} {_shown(raw)} is not a duration ({DURATION_EXAMPLES}): "
                        f"{accepted}") from None
        raise error(f"{what} {_shown(raw)} is not understood: {accepted}") from None
    # Check the year before any time-zone arithmetic: 0001-01-01T00:00+14:00 has no UTC.
    if not EARLIEST_MOMENT.year <= moment.year <= LATEST_MOMENT.year:
        raise error(f"{what} {_shown(raw)} is out of range: give a moment between "
                    f"{EARLIEST_MOMENT:%Y-%m-%d} and {LATEST_MOMENT:%Y-%m-%d}.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=syntax.zone)
    return _bounded(moment, raw, what, accepted, error)


def _bounded(moment: datetime, raw: str, what: str, accepted: str,
             error: type[MonitorError]) -> datetime:
    if not EARLIEST_MOMENT <= moment <= LATEST_MOMENT:
        raise error(f"{what} {_shown(raw)} is out of range: give a moment between "
                    f"{EARLIEST_MOMENT:%Y-%m-%d} and {LATEST_MOMENT:%Y-%m-%d}.")
    return moment


def parse_day(text: str, *, what: str, error: type[MonitorError] = UsageError) -> date:
    """A calendar date (2026-11-23) within 1900..2998."""
    raw = text.strip() if isinstance(text, str) else ""
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError("expected YYYY-MM-DD")
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise error(f"{what} {_shown(raw)} is not a date ({exc}): {what} takes a date such "
                    "as 2026-11-23.") from None
    if not EARLIEST_MOMENT.year <= day.year < LATEST_MOMENT.year:
        raise error(f"{what} {_shown(raw)} is out of range: give a date between "
                    f"{EARLIEST_MOMENT:%Y-%m-%d} and {LATEST_MOMENT:%Y-%m-%d}.")
    return day


def local(syntax: MomentSyntax, zone: tzinfo, zone_name: str) -> MomentSyntax:
    """The same syntax, reading dates and times without an offset in `zone` (the monitor's
    [schedule] timezone: every date a person types or reads is local)."""
    return replace(syntax, zone=zone, zone_name=zone_name)
