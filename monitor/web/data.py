"""What the dashboard's pages show, read from the store (no HTTP here, no HTML)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from monitor.analysis.rates import totals
from monitor.app.models_choice import report_model
from monitor.config import MonitorConfig, PairConfig
from monitor.errors import MonitorError, UsageError
from monitor.models import AlertState, PostClass, Silence
from monitor.report.model import ReportItem
from monitor.report.reasons import current_class
from monitor.report.render import AlertPeriod, alert_periods
from monitor.store import Store
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


@dataclass(frozen=True)
class AlertHistory:
    available: bool  # False when the alert tables cannot be read (an older database)
    state: AlertState | None = None
    events: list[Any] = field(default_factory=list)  # newest first
    periods: list[AlertPeriod] | None = None
    silences: list[Silence] = field(default_factory=list)  # in force or to come, newest first


def alert_history(store: Store, pair: str, start: datetime | None = None,
                  end: datetime | None = None, *, limit: int = 50,
                  now: datetime | None = None) -> AlertHistory:
    """The pair's alert state, its latest transitions, its firing periods in [start, end),
    and (given `now`) its silences in force or to come."""
    try:

        state = store.alert_state(pair)
        events = store.alert_events(pair)
        silences = (store.silences(pair=pair, current_at=now)
                    if now is not None else [])
    except (ImportError, MonitorError) as exc:  # no alert tables: the page says so
        log.warning("alert history of %s unavailable: %s", pair, exc)
        return AlertHistory(available=False)
    return AlertHistory(True, state, events[::-1][:limit],
                        alert_periods(events, start=start, end=end), silences)


def post_item(store: Store, cfg: MonitorConfig, pair: PairConfig,
              post_id: str) -> ReportItem | None:
    """One executive post of the pair with its finding (the target of deep links)."""
    post = store.posts_by_ids([post_id]).get(post_id)
    if post is None or post.account.casefold() not in {a.casefold() for a in pair.executive}:
        return None
    found = store.findings(pair.name, report_model(store, cfg, pair).model_id,
                           since=post.created_at,
                           until=post.created_at + timedelta(seconds=1))
    for s in found:
        if s.post.post_id == post_id:
            return ReportItem(current_class(s.finding), s.post, s.nearest)
    return None


@dataclass(frozen=True)
class PairSummary:
    pair: PairConfig
    posts: int
    overlap_rate: float | None
    counts: dict[PostClass, int]
    alert_status: str | None


def pair_summary(store: Store, cfg: MonitorConfig, pair: PairConfig,
                 since: datetime) -> PairSummary:
    stored = store.findings(pair.name, report_model(store, cfg, pair).model_id, since=since)
    stats = totals([current_class(s.finding) for s in stored])
    history = alert_history(store, pair.name, limit=0)
    status = history.state.status.value if history.state else None
    return PairSummary(pair, stats.posts, stats.overlap_rate, stats.counts, status)


@dataclass(frozen=True)
class FlaggedPage:
    items: list[ReportItem]
    total: int
    page: int
    pages: int
    wanted: str  # "flagged" or a class value


def flagged(store: Store, cfg: MonitorConfig, pair: PairConfig, p: Period, wanted: str,
            page: int, per_page: int = 50) -> FlaggedPage:
    """Flagged posts of the period, newest first, one page at a time."""
    classes = FLAGGED if wanted == "flagged" else tuple(
        c for c in PostClass if c.value == wanted)
    if not classes:
        raise UsageError(f"class {wanted!r}: use flagged or a class ("
                         f"{', '.join(c.value for c in PostClass)})")
    stored = store.findings(pair.name, report_model(store, cfg, pair).model_id, since=p.since,
                            until=p.until)
    current = [ReportItem(current_class(s.finding), s.post, s.nearest) for s in stored]
    items = [i for i in reversed(current) if i.finding.post_class in classes]
    pages = max(1, -(-len(items) // per_page))
    page = min(max(1, page), pages)
    return FlaggedPage(items[(page - 1) * per_page:page * per_page], len(items), page, pages,
                       wanted)
