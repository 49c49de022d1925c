"""Evaluating a pair's alerts: the overlap-rate state machine and the risk posts, with the
one message of the pair (application layer: the rules are in `monitor.notify.alerts`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from monitor.analysis.rates import totals
from monitor.app.models_choice import report_model
from monitor.config import MonitorConfig, PairConfig
from monitor.models import REDUNDANT_CLASSES, RISK_CLASSES, AlertEvent, AlertState
from monitor.notify import alerts
from monitor.notify.alert_message import alert_messages, pair_alert
from monitor.report.model import ReportItem
from monitor.report.reasons import current_class
from monitor.store import Store

log = logging.getLogger(__name__)


def observe(store: Store, cfg: MonitorConfig, pair: PairConfig,
            now: datetime) -> alerts.Observation:
    """The overlap rate of a pair over the trailing alert window ending at `now`."""
    since = now - timedelta(days=cfg.alerts.window_days)
    found = store.findings(pair.name, report_model(store, cfg, pair).model_id, since=since,
                           until=now)
    stats = totals(s.finding for s in found)
    silence = store.active_silence(pair.name, now)
    return alerts.Observation(pair=pair.name, rate=stats.overlap_rate, posts=stats.posts,
                              silenced_until=silence.until if silence else None,
                              silence_reason=silence.reason if silence else "")


def load_alert_state(store: Store, pair: str) -> AlertState:
    return store.alert_state(pair) or AlertState(pair=pair)


def new_risks(store: Store, cfg: MonitorConfig, pair: PairConfig,
              now: datetime) -> list[ReportItem]:
    """Risk posts of the alert window not announced yet, oldest first."""
    since = now - timedelta(days=cfg.alerts.window_days)
    model = report_model(store, cfg, pair).model_id
    found = [ReportItem(current_class(s.finding), s.post, s.nearest)
             for s in store.findings(pair.name, model, since=since, until=now)]
    risks = [i for i in found if i.finding.post_class in RISK_CLASSES]
    done = store.notified_risks(pair.name, [i.post.post_id for i in risks])
    return [i for i in risks if i.post.post_id not in done]


def redundant_posts(store: Store, cfg: MonitorConfig, pair: PairConfig,
             now: datetime) -> list[ReportItem]:
    """The redundant posts of the alert window, newest first: what made the rate cross."""
    since = now - timedelta(days=cfg.alerts.window_days)
    found = store.findings(pair.name, report_model(store, cfg, pair).model_id, since=since,
                           until=now)
    return [ReportItem(s.finding, s.post, s.nearest) for s in found[::-1]
            if s.finding.post_class in REDUNDANT_CLASSES]


def evaluate_alert(store: Store, cfg: MonitorConfig, pair: PairConfig, now: datetime, *,
                   webhook: bool = False,
                   channels: Sequence[str] = ()) -> list[alerts.Notification]:
    """Run one alert evaluation: the overlap state machine, and the risk posts not announced
    yet (sent at once, whatever the silences). Its state, history, notices and the one
    message of the pair (email, plus each chat/webhook channel) are saved together."""
    settings = alerts.AlertSettings.from_config(cfg.alerts)
    state = load_alert_state(store, pair.name)
    new_state, notes, events = alerts.evaluate(state, observe(store, cfg, pair, now), now,
                                               settings)
    risks = new_risks(store, cfg, pair, now)
    message = pair_alert(cfg, pair, notes, risks,
                         redundant_posts(store, cfg, pair, now) if notes else [], settings, now)
    wanted = list(dict.fromkeys([*(["webhook"] if webhook else []), *channels]))
    messages = alert_messages(cfg, pair, message, now, channels=wanted) if message else []
    risk_events = [AlertEvent(pair=pair.name, kind="risk", sequence=new_state.sequence,
                              rate=None, posts=len(risks), at=now,
                              detail=", ".join(i.post.post_id for i in risks))] if risks else []
    store.record_alert_evaluation(new_state, [*events, *risk_events], messages, now,
                                  risk_posts=[i.post.post_id for i in risks],
                                  risk_key=message.key if message else "")
    for n in notes:
        log.warning("pair %s: alert %s (%s)", pair.name, n.kind.value, n.subject)
    if risks:
        log.warning("pair %s: %d risk post(s) announced (%s)", pair.name, len(risks),
                    message.severity.value if message else "")
    return notes
