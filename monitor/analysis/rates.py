"""Counts and overlap rates per period (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from monitor.models import REDUNDANT_CLASSES, Finding, PostClass


@dataclass
class PeriodStats:
    start: date
    end: date  # exclusive
    counts: dict[PostClass, int] = field(default_factory=lambda: dict.fromkeys(PostClass, 0))

    @property
    def posts(self) -> int:
        return sum(self.counts.values())

    @property
    def redundant(self) -> int:
        return sum(self.counts[c] for c in REDUNDANT_CLASSES)

    @property
    def overlap_rate(self) -> float | None:
        """(echo + overlap + recycled) / executive posts; None for a period without posts."""
        return self.redundant / self.posts if self.posts else None


def period_start(moment: datetime, period: str) -> date:
    day = moment.date()
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown period {period!r}: day, week or month")


def _next(start: date, period: str) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def by_period(findings: Iterable[Finding], period: str, *, first: date | None = None,
              last: date | None = None) -> list[PeriodStats]:
    """Stats per period, with empty periods between the first and last kept (a gap is news)."""
    buckets: dict[date, PeriodStats] = {}
    for f in findings:
        start = period_start(f.created_at, period)
        if start not in buckets:
            buckets[start] = PeriodStats(start, _next(start, period))
        buckets[start].counts[f.post_class] += 1
    starts = list(buckets)
    if first is not None:
        starts.append(period_start(datetime.combine(first, datetime.min.time()), period))
    if last is not None:
        starts.append(period_start(datetime.combine(last, datetime.min.time()), period))
    if not starts:
        return []
    cursor, end = min(starts), max(starts)
    out = []
    while cursor <= end:
        out.append(buckets.get(cursor) or PeriodStats(cursor, _next(cursor, period)))
        cursor = _next(cursor, period)
    return out


def totals(findings: Iterable[Finding]) -> PeriodStats:
    items = list(findings)
    if not items:
        return PeriodStats(date.min, date.min)
    stats = PeriodStats(min(f.created_at for f in items).date(),
                        max(f.created_at for f in items).date() + timedelta(days=1))
    for f in items:
        stats.counts[f.post_class] += 1
    return stats
