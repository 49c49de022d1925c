"""One run of the monitor, wired: import -> store -> embed -> analyse -> report.

The analysis operations live in `monitor.app.analyse` (re-exported here for the CLI, the
scheduler and the dashboard); this module imports files and gathers reports.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor import state
from monitor.analysis.rates import by_period, totals
from monitor.app.analyse import (
    CheckResult,
    PairAnalysis,
    analyse_all,
    analyse_pair,
    check_draft,
    embed_pending,
    guardrails,
    pair_drift,
    thresholds_for,
)
from monitor.app.models_choice import report_model
from monitor.config import MonitorConfig, PairConfig
from monitor.errors import UsageError
from monitor.i18n import N_
from monitor.ingest.archive import read_archive
from monitor.ingest.jsonl import read_jsonl
from monitor.report.model import PairReport, ReportItem
from monitor.report.reasons import current_class
from monitor.store import ImportResult, Store

__all__ = ["CheckResult", "PairAnalysis", "analyse_all", "analyse_pair", "build_report",
           "check_draft", "embed_pending", "guardrails", "import_archive", "import_jsonl",
           "pair_drift", "thresholds_for"]

log = logging.getLogger(__name__)


# -- import ------------------------------------------------------------------------------------

def import_jsonl(store: Store, path: str | Path, *, now: datetime | None = None) -> ImportResult:
    """Import a JSONL file in one transaction (all posts, or none if any line is bad); post
    dates must lie between X's launch and a day after `now` (default: the clock)."""
    posts = read_jsonl(path, now=now)
    return store.import_posts(posts, source="jsonl")


def import_archive(store: Store, path: str | Path, account: str | None, *,
                   now: datetime | None = None) -> ImportResult:
    """Import an X archive export (zip, folder or tweets.js) in one transaction."""
    contents = read_archive(path, account, now=now)
    return store.import_posts(contents.posts, source="archive")


# -- report ------------------------------------------------------------------------------------

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
