"""The overlap alert state machine (pure: no database, no clock, no network).

Prometheus/Grafana semantics, per pair, evaluated after each analysis:

    inactive ──rate ≥ threshold──> pending ──held for `for_evaluations` evaluations──> firing
       ^                              │                                                   │
       └──────rate < threshold────────┘        (one "firing" notification, then a "repeat"
       └──────────────rate < recover_threshold (hysteresis): one "resolved"──────────────┘
                                               at most every `repeat_interval` while firing)

- A window with fewer than `min_posts` executive posts is "no data": a pending alert goes back
  to inactive (a quiet week must not raise an alarm), a firing one stays firing, silently, until
  enough posts show the rate below `recover_threshold`.
- A silence mutes notifications, not evaluation: the state still moves. A firing alert that was
  never announced is announced when the silence ends, if it still holds; its resolution is only
  announced if its firing was.
- Every notification carries an idempotency key built from the pair, the firing episode
  (`sequence`) and the transition, so a notification is queued at most once even when the same
  evaluation runs twice (e.g. a restart between queueing and saving the state).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from monitor.config import AlertsConfig
from monitor.models import AlertEvent, AlertState, AlertStatus


class NotificationKind(StrEnum):
    FIRING = "firing"
    REPEAT = "repeat"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertSettings:
    threshold: float
    recover_threshold: float
    for_evaluations: int
    repeat_interval: timedelta
    min_posts: int
    window_days: int

    @classmethod
    def from_config(cls, cfg: AlertsConfig) -> AlertSettings:
        recover = cfg.recover_threshold
        return cls(threshold=cfg.threshold,
                   recover_threshold=recover if recover is not None else 0.8 * cfg.threshold,
                   for_evaluations=cfg.for_evaluations,
                   repeat_interval=cfg.repeat_interval,
                   min_posts=cfg.min_posts, window_days=cfg.window_days)


@dataclass(frozen=True)
class Observation:
    """One evaluation's input: the overlap rate of a pair over its trailing window."""

    pair: str
    rate: float | None  # (echo + overlap) / executive posts; None without posts
    posts: int
    silenced_until: datetime | None = None
    silence_reason: str = ""


@dataclass(frozen=True)
class Notification:
    pair: str
    kind: NotificationKind
    key: str  # idempotency key: alert:<pair>:<episode>:<transition>
    sequence: int
    rate: float | None
    posts: int
    at: datetime
    subject: str
    text: str


def evaluate(state: AlertState, obs: Observation, now: datetime,
             settings: AlertSettings) -> tuple[AlertState, list[Notification], list[AlertEvent]]:
    """One evaluation: the new state, the notifications to send, the transitions to record."""
    has_data = obs.rate is not None and obs.posts >= settings.min_posts
    rate = obs.rate if has_data else None
    silenced = obs.silenced_until is not None and obs.silenced_until > now
    notes: list[Notification] = []
    events: list[AlertEvent] = []
    s = replace(state, last_rate=obs.rate, last_posts=obs.posts, last_evaluated_at=now)

    def event(kind: str, detail: str, seq: int | None = None) -> None:
        events.append(AlertEvent(obs.pair, kind, s.sequence if seq is None else seq, obs.rate,
                                 obs.posts, now, detail))

    if s.status is AlertStatus.FIRING:
        if rate is not None and rate < settings.recover_threshold:
            if s.notified:
                notes.append(_notification(NotificationKind.RESOLVED, s, obs, now, settings))
            event("resolved", f"below the recovery threshold {settings.recover_threshold:.0%}"
                  + ("" if s.notified else "; never announced (silenced)"))
            s = replace(s, status=AlertStatus.INACTIVE, pending_count=0, active_since=None,
                        notified=False, repeats=0)
        elif silenced:
            pass  # still firing; the silence mutes it
        elif not s.notified:
            # Announced late (the silence ended) only while the condition itself holds.
            if rate is not None and rate >= settings.threshold:
                notes.append(_notification(NotificationKind.FIRING, s, obs, now, settings))
                event("firing", "announced after a silence")
                s = replace(s, notified=True, last_notified_at=now)
        elif rate is not None and (s.last_notified_at is None
                                   or now - s.last_notified_at >= settings.repeat_interval):
            s = replace(s, repeats=s.repeats + 1)
            notes.append(_notification(NotificationKind.REPEAT, s, obs, now, settings))
            event("repeat", f"still firing, reminder {s.repeats}")
            s = replace(s, last_notified_at=now)
        return s, notes, events

    if rate is None or rate < settings.threshold:
        if s.status is AlertStatus.PENDING:
            event("cleared", "no data" if rate is None else
                  f"back below the threshold {settings.threshold:.0%} before firing")
        return replace(s, status=AlertStatus.INACTIVE, pending_count=0, active_since=None), \
            notes, events

    count = s.pending_count + 1
    since = s.active_since if s.status is AlertStatus.PENDING else now
    if count < settings.for_evaluations:
        if s.status is not AlertStatus.PENDING:
            event("pending", f"at or above the threshold {settings.threshold:.0%}")
        return replace(s, status=AlertStatus.PENDING, pending_count=count,
                       active_since=since), notes, events
    s = replace(s, status=AlertStatus.FIRING, pending_count=count, active_since=since,
                sequence=s.sequence + 1, notified=False, repeats=0)
    if silenced and obs.silenced_until is not None:
        # Stored history: ISO-8601 with its offset, whatever the readers' zone.
        event("firing", f"silenced until {obs.silenced_until.isoformat(timespec='minutes')}"
              + (f" ({obs.silence_reason})" if obs.silence_reason else ""))
        return s, notes, events
    notes.append(_notification(NotificationKind.FIRING, s, obs, now, settings))
    event("firing", f"held for {count} evaluations")
    return replace(s, notified=True, last_notified_at=now), notes, events


def _notification(kind: NotificationKind, s: AlertState, obs: Observation, now: datetime,
                  settings: AlertSettings) -> Notification:
    suffix = f"repeat:{s.repeats}" if kind is NotificationKind.REPEAT else kind.value
    rate = "no data" if obs.rate is None else f"{obs.rate:.0%}"
    window = f"{settings.window_days} days"
    since = f"{s.active_since:%Y-%m-%d %H:%M} UTC" if s.active_since else "now"
    if kind is NotificationKind.RESOLVED:
        subject = f"[monitor] RESOLVED {obs.pair}: overlap rate back to {rate}"
        text = (f"Resolved: the overlap rate of pair {obs.pair} over the last {window} is {rate} "
                f"({obs.posts} executive posts), below the recovery threshold "
                f"{settings.recover_threshold:.0%}. It had been firing since {since}.")
    else:
        label = "FIRING" if kind is NotificationKind.FIRING else "STILL FIRING"
        subject = f"[monitor] {label} {obs.pair}: overlap rate {rate} over {window}"
        text = (f"{label.capitalize()}: the overlap rate of pair {obs.pair} over the last "
                f"{window} is {rate} ({obs.posts} executive posts); the alert threshold is "
                f"{settings.threshold:.0%}, reached since {since}. The executive's posts echo "
                "or paraphrase the corporate account(s) too often: see `monitor report --pair "
                f"{obs.pair}` for the flagged posts. The alert resolves when the rate falls "
                f"below {settings.recover_threshold:.0%}.")
    return Notification(pair=obs.pair, kind=kind, key=f"alert:{obs.pair}:{s.sequence}:{suffix}",
                        sequence=s.sequence, rate=obs.rate, posts=obs.posts, at=now,
                        subject=subject, text=text)
