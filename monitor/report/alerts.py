"""Alert periods on a report's timeline: the firing episodes of the alert history, and the
weeks at or above the alert threshold (the two readings of "alert" a report shows side by side).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from monitor.analysis.rates import PeriodStats
from monitor.models import AlertEvent
from monitor.report.model import PairReport


@dataclass(frozen=True)
class AlertPeriod:
    """One firing episode of a pair's overlap alert, as the alert history recorded it."""

    sequence: int
    start: datetime
    end: datetime | None  # None while still firing
    peak_rate: float | None
    detail: str = ""


def alert_periods(events: Iterable[AlertEvent], *, start: datetime | None = None,
                  end: datetime | None = None) -> list[AlertPeriod]:
    """Firing periods from alert transitions (firing ... resolved, by episode), keeping those
    that overlap [start, end). Pass the whole history: an episode may begin before `start`."""
    opened: dict[int, AlertPeriod] = {}
    periods: list[AlertPeriod] = []
    for e in sorted(events, key=lambda ev: ev.at):
        current = opened.get(e.sequence)
        if e.kind in ("firing", "repeat"):
            if current is None:
                opened[e.sequence] = AlertPeriod(e.sequence, e.at, None, e.rate, e.detail)
            elif e.rate is not None and (current.peak_rate is None
                                         or e.rate > current.peak_rate):
                opened[e.sequence] = replace(current, peak_rate=e.rate)
        elif e.kind == "resolved" and current is not None:
            periods.append(replace(current, end=e.at))
            del opened[e.sequence]
    periods.extend(opened.values())
    periods.sort(key=lambda p: p.start)
    return [p for p in periods
            if (end is None or p.start < end) and (start is None or p.end is None
                                                  or p.end > start)]


def alert_weeks(report: PairReport) -> list[PeriodStats]:
    """Weeks whose overlap rate is at or above the alert threshold."""
    t = report.alert_threshold
    return [w for w in report.weekly
            if t is not None and w.overlap_rate is not None and w.overlap_rate >= t]


@dataclass(frozen=True)
class AlertRun:
    """Consecutive weeks at or above the alert threshold."""

    start: date
    end: date  # exclusive
    weeks: int
    peak_rate: float

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def alert_runs(weeks: Sequence[PeriodStats]) -> list[AlertRun]:
    """Group alert weeks (see `alert_weeks`) into runs of consecutive weeks."""
    runs: list[AlertRun] = []
    for w in weeks:
        rate = w.overlap_rate or 0.0
        if runs and runs[-1].end == w.start:
            last = runs[-1]
            runs[-1] = AlertRun(last.start, w.end, last.weeks + 1, max(last.peak_rate, rate))
        else:
            runs.append(AlertRun(w.start, w.end, 1, rate))
    return runs
