"""What the dashboard's pages show, read from the store (no HTTP here, no HTML)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.analysis.rates import totals
from monitor.config import MonitorConfig, PairConfig
from monitor.embed.encoder import model_id_for
from monitor.errors import MonitorError, UsageError
from monitor.models import PostClass
from monitor.report.render import AlertPeriod, alert_periods
from monitor.store import Store
from monitor.store.repository import StoredFinding
from monitor.timeparse import SINCE, UNTIL, parse_moment

log = logging.getLogger(__name__)
DEFAULT_SINCE = "90d"
FLAGGED = (PostClass.ECHO, PostClass.OVERLAP, PostClass.OFF_LINE)


@dataclass(frozen=True)
class Period:
    since_text: str
    until_text: str
    since: datetime
    until: datetime | None


def period(query: dict[str, str], now: datetime) -> Period:
    since_text = query.get("since") or DEFAULT_SINCE
    until_text = query.get("until") or ""
    # The one bounded parser: ?since=1e400d is a 400 that says what is accepted, never a 500.
    until = parse_moment(until_text, now, what="until", syntax=UNTIL) if until_text else None
    since = parse_moment(since_text, now, what="since", syntax=SINCE)
    if until is not None and since >= until:
        raise UsageError(f"since {since_text!r} is not before until {until_text!r}: give a "
                         "start before the end.")
    return Period(since_text, until_text, since, until)


@dataclass(frozen=True)
class AlertHistory:
    available: bool  # False when the alert tables cannot be read (an older database)
    state: dict[str, Any] | None = None
    events: list[Any] = field(default_factory=list)  # newest first
    periods: list[AlertPeriod] | None = None


def alert_history(store: Store, pair: str, start: datetime | None = None,
                  end: datetime | None = None, *, limit: int = 50) -> AlertHistory:
    """The pair's alert state, its latest transitions and its firing periods in [start, end)."""
    try:
        from monitor.store import notify_repo

        state = notify_repo.alert_state(store, pair)
        events = notify_repo.alert_events(store, pair)
    except (ImportError, MonitorError) as exc:  # no alert tables: the page says so
        log.warning("alert history of %s unavailable: %s", pair, exc)
        return AlertHistory(available=False)
    return AlertHistory(True, state, events[::-1][:limit],
                        alert_periods(events, start=start, end=end))


@dataclass(frozen=True)
class PairSummary:
    pair: PairConfig
    posts: int
    overlap_rate: float | None
    counts: dict[PostClass, int]
    alert_status: str | None


def pair_summary(store: Store, cfg: MonitorConfig, pair: PairConfig,
                 since: datetime) -> PairSummary:
    stored = store.findings(pair.name, model_id_for(cfg.model.name), since=since)
    stats = totals([s.finding for s in stored])
    history = alert_history(store, pair.name, limit=0)
    status = history.state["status"] if history.state else None
    return PairSummary(pair, stats.posts, stats.overlap_rate, stats.counts, status)


@dataclass(frozen=True)
class FlaggedPage:
    items: list[StoredFinding]
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
        raise UsageError(f"class {wanted!r}: use flagged, echo, overlap or off-line")
    stored = store.findings(pair.name, model_id_for(cfg.model.name), since=p.since,
                            until=p.until)
    items = [s for s in reversed(stored) if s.finding.post_class in classes]
    pages = max(1, -(-len(items) // per_page))
    page = min(max(1, page), pages)
    return FlaggedPage(items[(page - 1) * per_page:page * per_page], len(items), page, pages,
                       wanted)
