"""The daily digest: what each pair's executive posted on one local day, and how it compares.

The caller gathers, per pair, a report over the eight local days ending with the digest day
(the day, the day before, and the seven-day windows ending on each), the drift before the day
and the alert state; this module turns them into one email per recipient list, HTML and plain
text, from Jinja2 templates. HTML output is autoescaped (post texts are untrusted), styled
inline (mail clients drop <style>), with no script and no external asset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.analysis.drift import DriftResult
from monitor.analysis.rates import PeriodStats, totals
from monitor.config import MonitorConfig, PairConfig
from monitor.errors import ConfigError
from monitor.models import PostClass
from monitor.notify.alerts import AlertState, AlertStatus
from monitor.notify.email import build_email
from monitor.report.model import PairReport, ReportItem
from monitor.report.render import highlight, post_url, shown
from monitor.store import Store
from monitor.store import notify_repo as repo
from monitor.store.notify_repo import OutboxMessage, Silence, StoredAlertEvent

_TEMPLATES = Path(__file__).parent / "templates"
TOP_LIMIT = 5


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as aware datetimes (DST-safe)."""
    return (datetime.combine(day, time(0), tz),
            datetime.combine(day + timedelta(days=1), time(0), tz))


def local_zone(cfg: MonitorConfig) -> ZoneInfo:
    try:
        return ZoneInfo(cfg.schedule.timezone)
    except (ValueError, LookupError, OSError):
        raise ConfigError(f"{cfg.source}: [schedule] timezone {cfg.schedule.timezone!r} is not "
                          "a known time zone: use an IANA name such as Europe/Paris.") from None


def digest_time(cfg: MonitorConfig) -> tuple[int, int, int]:
    """[schedule] digest_at as (hour, minute, second): "08:00", or "08:00:30" (seconds are
    accepted so a test can make the trigger fire within seconds)."""
    parts = cfg.schedule.digest_at.strip().split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        h, m, s = (int(p) for p in [*parts, "0"][:3])
        if not (0 <= h < 24 and 0 <= m < 60 and 0 <= s < 60):
            raise ValueError
    except ValueError:
        raise ConfigError(f"{cfg.source}: [schedule] digest_at {cfg.schedule.digest_at!r} is not "
                          "a time of day: use HH:MM, e.g. 08:00.") from None
    return h, m, s


def default_digest_day(cfg: MonitorConfig, now: datetime) -> date:
    """The day a digest sent at `now` covers: the previous local day."""
    return now.astimezone(local_zone(cfg)).date() - timedelta(days=1)


@dataclass(frozen=True)
class PairDigestInput:
    pair: PairConfig
    report: PairReport  # findings from the start of day-7 to the end of the day; drift at its end
    drift_before: DriftResult | None  # drift at the start of the day
    alert: AlertState | None = None
    silence: Silence | None = None
    events: Sequence[StoredAlertEvent] = ()  # alert transitions during the day


@dataclass(frozen=True)
class PairDigest:
    pair: str
    executive: tuple[str, ...]
    corporate: tuple[str, ...]
    day: date
    today: PeriodStats
    yesterday: PeriodStats
    week: PeriodStats
    previous_week: PeriodStats
    threshold: float
    top: list[ReportItem]
    offline: list[ReportItem]
    drift: DriftResult | None
    changes: list[str]
    alert_line: str
    firing: bool = False
    overlap_threshold: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.today.posts == 0

    @property
    def above(self) -> bool:
        return self.week.overlap_rate is not None and self.week.overlap_rate >= self.threshold


@dataclass(frozen=True)
class DigestEmail:
    key: str
    day: date
    recipients: tuple[str, ...]
    pairs: tuple[PairDigest, ...]
    subject: str
    text: str
    html: str

    @property
    def empty(self) -> bool:
        return all(p.empty for p in self.pairs)

    def message(self, sender: str, now: datetime) -> OutboxMessage:
        payload = build_email(key=self.key, sender=sender, recipients=self.recipients,
                              subject=self.subject, text=self.text, html=self.html, date=now)
        return OutboxMessage(key=self.key, channel="email", subject=self.subject,
                             payload=payload, recipients=self.recipients,
                             pair=",".join(p.pair for p in self.pairs))


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def summarise(item: PairDigestInput, day: date, tz: ZoneInfo, threshold: float) -> PairDigest:
    """One pair's figures for `day` (a local date in `tz`)."""
    rep = item.report
    by_day: dict[date, list[ReportItem]] = {}
    for i in rep.items:
        by_day.setdefault(i.finding.created_at.astimezone(tz).date(), []).append(i)

    def stats(first: date, last: date) -> PeriodStats:
        found = [i.finding for d, items in by_day.items() if first <= d <= last for i in items]
        return totals(found)

    today_items = by_day.get(day, [])
    week = stats(day - timedelta(days=6), day)
    previous_week = stats(day - timedelta(days=7), day - timedelta(days=1))
    today, yesterday = stats(day, day), stats(day - timedelta(days=1), day - timedelta(days=1))
    flagged = [i for i in today_items
               if i.finding.post_class in (PostClass.ECHO, PostClass.OVERLAP)]
    top = sorted(flagged, key=lambda i: -(i.finding.similarity or 0.0))[:TOP_LIMIT]
    offline = [i for i in today_items if i.finding.post_class is PostClass.OFF_LINE]
    return PairDigest(
        pair=rep.pair, executive=rep.executive, corporate=rep.corporate, day=day, today=today,
        yesterday=yesterday, week=week, previous_week=previous_week, threshold=threshold,
        top=top, offline=offline, drift=rep.drift,
        changes=_changes(today, yesterday, week, previous_week, threshold, rep.drift,
                         item.drift_before, item.events, tz),
        alert_line=_alert_line(item.alert, item.silence),
        firing=item.alert is not None and item.alert.status is AlertStatus.FIRING,
        overlap_threshold=rep.thresholds.overlap if rep.thresholds else None,
        notes=list(rep.notes))


def _changes(today: PeriodStats, yesterday: PeriodStats, week: PeriodStats,
             previous_week: PeriodStats, threshold: float, drift: DriftResult | None,
             drift_before: DriftResult | None, events: Sequence[StoredAlertEvent],
             tz: ZoneInfo) -> list[str]:
    out = [f"Executive posts: {today.posts} (the day before: {yesterday.posts})."]
    out.append(f"Overlap rate of the day: {pct(today.overlap_rate)} (the day before: "
               f"{pct(yesterday.overlap_rate)}"
               f"{_delta(today.overlap_rate, yesterday.overlap_rate)}).")
    line = (f"7-day overlap rate: {pct(week.overlap_rate)} (a day earlier: "
            f"{pct(previous_week.overlap_rate)}"
            f"{_delta(week.overlap_rate, previous_week.overlap_rate)})")
    now_above = week.overlap_rate is not None and week.overlap_rate >= threshold
    was_above = previous_week.overlap_rate is not None and previous_week.overlap_rate >= threshold
    if now_above and not was_above:
        line += f"; it has reached the alert threshold of {pct(threshold)}"
    elif was_above and not now_above:
        line += f"; it is back below the alert threshold of {pct(threshold)}"
    out.append(line + ".")
    now_status = drift.status if drift else "unknown"
    before_status = drift_before.status if drift_before else "unknown"
    if now_status != before_status:
        out.append(f"Voice drift: {before_status} → {now_status}.")
    else:
        out.append(f"Voice drift: {now_status}, unchanged.")
    for e in events:
        out.append(f"Alert {e.kind} at {e.at.astimezone(tz):%H:%M} ({pct(e.rate)} over "
                   f"{e.posts} posts): {e.detail}.")
    return out


def _delta(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    points = round((now - before) * 100)
    return "; unchanged" if points == 0 else f"; {points:+d} points"


def _alert_line(alert: AlertState | None, silence: Silence | None) -> str:
    if alert is None or alert.status is AlertStatus.INACTIVE:
        line = "Alert now: not firing."
    elif alert.status is AlertStatus.PENDING:
        line = f"Alert now: pending (rate {pct(alert.last_rate)}; fires if it holds)."
    else:
        since = f"{alert.active_since:%Y-%m-%d %H:%M} UTC" if alert.active_since else "?"
        line = f"Alert now: FIRING since {since} (rate {pct(alert.last_rate)})."
    if silence is not None:
        line += (f" Silenced until {silence.until:%Y-%m-%d %H:%M} UTC"
                 + (f" ({silence.reason})." if silence.reason else "."))
    return line


@dataclass(frozen=True)
class QueuedDigest:
    digest: DigestEmail
    # "queued", "already queued", "re-addressed" (a waiting copy went to `previous`),
    # "already sent", "empty" or "no recipients"
    outcome: str
    previous: tuple[str, ...] = ()


def queue_digests(store: Store, cfg: MonitorConfig, digests: Sequence[DigestEmail],
                  now: datetime, *, send_when_empty: bool) -> list[QueuedDigest]:
    """Put digests in the outbox (once per key); empty ones only with send_when_empty. A copy
    still waiting under the same key is replaced by this build, to today's recipients."""
    out = []
    for d in digests:
        if not d.recipients:
            out.append(QueuedDigest(d, "no recipients"))
        elif d.empty and not send_when_empty:
            out.append(QueuedDigest(d, "empty"))
        else:
            q = repo.queue_latest(store, d.message(cfg.email.sender, now), now)
            out.append(QueuedDigest(d, q.outcome, q.previous))
    return out


def compose(cfg: MonitorConfig, inputs: Sequence[PairDigestInput], day: date,
            generated_at: datetime) -> list[DigestEmail]:
    """One digest email per recipient list (a pair's own list, else [email] recipients)."""
    tz = local_zone(cfg)
    groups: dict[tuple[str, ...], list[PairDigest]] = {}
    for item in inputs:
        recipients = tuple(item.pair.recipients or cfg.email.recipients)
        groups.setdefault(recipients, []).append(
            summarise(item, day, tz, cfg.alerts.threshold))
    env = _environment()
    out = []
    for recipients, pairs in groups.items():
        names = "+".join(p.pair for p in pairs)
        if len(names) > 200:
            names = hashlib.sha256(names.encode()).hexdigest()[:16]
        subject = _subject(pairs, day)
        context: dict[str, Any] = {"pairs": pairs, "day": day, "subject": subject,
                                   "generated_at": generated_at.astimezone(tz),
                                   "classes": PostClass, "tz": cfg.schedule.timezone}
        out.append(DigestEmail(
            key=f"digest:{names}:{day.isoformat()}", day=day, recipients=recipients,
            pairs=tuple(pairs), subject=subject,
            text=env.get_template("digest.txt.j2").render(**context),
            html=env.get_template("digest.html.j2").render(**context)))
    return out


def _subject(pairs: Sequence[PairDigest], day: date) -> str:
    def figure(p: PairDigest) -> str:
        today = (f"{pct(p.today.overlap_rate)} overlap" if not p.empty
                 else "no executive post")
        return f"{p.pair}: {today} on {day.isoformat()}, 7 days {pct(p.week.overlap_rate)}"

    alert = " (ALERT)" if any(p.above for p in pairs) else ""
    if len(pairs) == 1:
        p = pairs[0]
        return f"[monitor]{alert} {figure(p)} (alert at {pct(p.threshold)})"
    return f"[monitor]{alert} Digest {day.isoformat()}: " + "; ".join(
        f"{p.pair} {pct(p.today.overlap_rate)} (7 d {pct(p.week.overlap_rate)})" for p in pairs)


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    # Autoescape by template name: on for .html.j2, off for the plain-text .txt.j2.
    # `shown`: every printed value has its direction controls shown as markers (monitor.bidi).
    env = Environment(loader=FileSystemLoader(_TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html.j2", "html"], default=False),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      finalize=shown)
    env.filters["pct"] = pct
    env.filters["num"] = lambda v, d=2: "n/a" if v is None else f"{v:.{d}f}"
    env.filters["highlight"] = highlight
    env.filters["post_url"] = post_url
    env.filters["local"] = lambda v, tz: v.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    return env
