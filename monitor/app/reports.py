"""Reports of a pair, with their alert history: what the CLI, the dashboard and the digest
show, gathered from the store (no model needed: vectors and findings are cached)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from monitor.analysis.rates import by_period, totals
from monitor.app import freshness as state
from monitor.app.drift import pair_drift
from monitor.app.models_choice import report_model
from monitor.app.thresholds import thresholds_for
from monitor.config import MonitorConfig, PairConfig
from monitor.errors import MonitorError, UsageError
from monitor.i18n import N_
from monitor.models import AlertEvent, AlertState, PostClass, Silence
from monitor.report.alerts import AlertPeriod, alert_periods
from monitor.report.model import PairReport, ReportItem
from monitor.report.reasons import current_class
from monitor.store import Store

log = logging.getLogger(__name__)
FLAGGED = (PostClass.OFF_LIMITS, PostClass.ECHO, PostClass.OVERLAP, PostClass.RECYCLED,
           PostClass.AMPLIFIED, PostClass.OFF_LINE)


def build_report(store: Store, cfg: MonitorConfig, pair: PairConfig, *,
                 since: datetime | None = None, until: datetime | None = None,
                 now: datetime | None = None) -> PairReport:
    """Gather a pair's stored findings into a report. Needs no model: vectors are cached."""
    choice = report_model(store, cfg, pair)
    model = choice.model_id
    now = now or datetime.now(UTC)
    if since is not None and until is not None and since >= until:
        raise UsageError(f"the period starts ({since:%Y-%m-%d %H:%M} UTC) after it ends "
                         f"({until:%Y-%m-%d %H:%M} UTC): give --since before --until.")
    first, last = store.time_range(pair.accounts)
    start = since or first or now
    end = until or max(now, (last or now) + timedelta(seconds=1))
    executives = {a.casefold() for a in pair.executive}
    # Findings of an account since removed from the pair stay stored but are not reported.
    stored = [f for f in store.findings(pair.name, model, since=start, until=end)
              if f.post.account.casefold() in executives]
    notes: list[str] = []
    if not stored:
        if store.count_posts() == 0:
            notes.append(N_("The store has no posts yet: run `monitor ingest` first."))
        else:
            notes.append(N_("No analysed executive posts in this period: run `monitor "
                            "analyse`, or widen --since."))
    items = [ReportItem(current_class(s.finding), s.post, s.nearest) for s in stored]
    findings = [i.finding for i in items]
    calibration = store.calibration(pair.name, model)
    thresholds = thresholds_for(pair, cfg, calibration, model=model)
    drift = pair_drift(store, cfg, pair, model, end=min(end, (last or end) + timedelta(
        seconds=1)))
    voice = state.report_voice(store, pair, model, [i.post for i in items], start, end,
                               state.config_zone(cfg),
                               subkinds={f.post_id: f.subkind for f in findings})
    return PairReport(
        pair=pair.name, executive=tuple(pair.executive), corporate=tuple(pair.corporate),
        model=model, start=start, end=end, generated_at=now, thresholds=thresholds,
        totals=totals(findings), weekly=by_period(findings, "week"), items=items,
        drift=drift, alert_threshold=cfg.alerts.threshold, notes=notes, voice=voice,
        model_choice=choice,
        freshness=state.freshness(store, pair, model, now=now, since=start, until=end,
                                  every=state.evaluation_interval(cfg)))


@dataclass(frozen=True)
class AlertHistory:
    available: bool  # False when the alert tables cannot be read (an older database)
    state: AlertState | None = None
    events: list[AlertEvent] = field(default_factory=list)  # newest first
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


def flagged(store: Store, cfg: MonitorConfig, pair: PairConfig, *, since: datetime,
            until: datetime | None, wanted: str, page: int, per_page: int = 50) -> FlaggedPage:
    """Flagged posts of the period, newest first, one page at a time."""
    classes = FLAGGED if wanted == "flagged" else tuple(
        c for c in PostClass if c.value == wanted)
    if not classes:
        raise UsageError(f"class {wanted!r}: use flagged or a class ("
                         f"{', '.join(c.value for c in PostClass)})")
    stored = store.findings(pair.name, report_model(store, cfg, pair).model_id, since=since,
                            until=until)
    current = [ReportItem(current_class(s.finding), s.post, s.nearest) for s in stored]
    items = [i for i in reversed(current) if i.finding.post_class in classes]
    pages = max(1, -(-len(items) // per_page))
    page = min(max(1, page), pages)
    return FlaggedPage(items[(page - 1) * per_page:page * per_page], len(items), page, pages,
                       wanted)


@dataclass(frozen=True)
class PairView:
    """A pair's report over a period with its alert history (firing periods drawn on the
    timeline, the latest transitions, silences): what `monitor report` and the dashboard's
    pair page and downloads show."""

    report: PairReport
    history: AlertHistory


def pair_view(store: Store, cfg: MonitorConfig, pair: PairConfig, *,
              since: datetime | None = None, until: datetime | None = None,
              now: datetime | None = None, with_silences: bool = True) -> PairView:
    now = now or datetime.now(UTC)
    report = build_report(store, cfg, pair, since=since, until=until, now=now)
    history = alert_history(store, pair.name, report.start, report.end,
                            now=now if with_silences else None)
    return PairView(report, history)
