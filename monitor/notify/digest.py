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
from urllib.parse import quote
from zoneinfo import ZoneInfo

from monitor.analysis.drift import DriftResult
from monitor.analysis.rates import PeriodStats, totals
from monitor.config import MonitorConfig, PairConfig
from monitor.i18n import FAMILY_COLOURS, Lang
from monitor.models import (
    REDUNDANT_CLASSES,
    RISK_CLASSES,
    AlertEvent,
    OutboxMessage,
    PostClass,
    Silence,
    family,
)
from monitor.notify.alerts import AlertState, AlertStatus
from monitor.notify.email import build_email
from monitor.report.model import Freshness, PairReport, ReportItem
from monitor.report.render import highlight, install_language, post_url, shown
from monitor.report.voice import VoicePath
from monitor.store import Store

_TEMPLATES = Path(__file__).parent / "templates"
TOP_LIMIT = 5


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as aware datetimes (DST-safe)."""
    return (datetime.combine(day, time(0), tz),
            datetime.combine(day + timedelta(days=1), time(0), tz))


def default_digest_day(tz: ZoneInfo, now: datetime) -> date:
    """The day a digest sent at `now` covers: the previous day in `tz` ([schedule] timezone)."""
    return now.astimezone(tz).date() - timedelta(days=1)


@dataclass(frozen=True)
class PairDigestInput:
    pair: PairConfig
    report: PairReport  # findings from the start of day-7 to the end of the day; drift at its end
    drift_before: DriftResult | None  # drift at the start of the day
    alert: AlertState | None = None
    silence: Silence | None = None
    events: Sequence[AlertEvent] = ()  # alert transitions during the day
    voice_day: VoicePath | None = None
    voice_week: VoicePath | None = None
    unanalysed_day: int = 0  # executive posts of the day waiting for analysis


@dataclass(frozen=True)
class AlertView:
    """The one alert state a digest shows, in its subject and its body alike.

    When a running service evaluated the pair's alert recently, its state machine is the
    truth (firing, pending, not firing); otherwise the digest says what its own 7-day figure
    shows ("above" or "below" the threshold) and that no service evaluated it.
    """

    level: str  # "firing", "pending", "inactive" (service) or "above", "below" (digest only)
    by_service: bool
    line: str

    @property
    def alarming(self) -> bool:
        return self.level in ("firing", "above")


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
    risks: list[ReportItem] = field(default_factory=list)
    alert: AlertView | None = None
    unanalysed: int = 0
    state_lines: list[str] = field(default_factory=list)
    voice_line: str = ""
    pair_url: str | None = None
    language: str = "en"

    @property
    def empty(self) -> bool:
        return self.today.posts == 0 and self.unanalysed == 0

    @property
    def above(self) -> bool:
        return self.week.overlap_rate is not None and self.week.overlap_rate >= self.threshold

    @property
    def alarming(self) -> bool:
        return self.alert.alarming if self.alert is not None else self.above


@dataclass(frozen=True)
class DigestEmail:
    key: str
    day: date
    recipients: tuple[str, ...]
    pairs: tuple[PairDigest, ...]
    subject: str
    text: str
    html: str
    language: str = "en"

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


def summarise(item: PairDigestInput, day: date, tz: ZoneInfo, threshold: float, *,
              lang: Lang | None = None, base_url: str | None = None,
              now: datetime | None = None) -> PairDigest:
    """One pair's figures for `day` (a local date in `tz`)."""
    lang = lang or Lang("en", tz)
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
    flagged = [i for i in today_items if i.finding.post_class in REDUNDANT_CLASSES]
    top = sorted(flagged, key=lambda i: -(i.finding.similarity or 0.0))[:TOP_LIMIT]
    offline = [i for i in today_items if i.finding.post_class is PostClass.OFF_LINE]
    risks = [i for i in today_items if i.finding.post_class in RISK_CLASSES]
    view = alert_view(item.alert, item.silence, week, threshold, rep.freshness, lang)
    return PairDigest(
        pair=rep.pair, executive=rep.executive, corporate=rep.corporate, day=day, today=today,
        yesterday=yesterday, week=week, previous_week=previous_week, threshold=threshold,
        top=top, offline=offline, drift=rep.drift,
        changes=_changes(today, yesterday, week, previous_week, threshold, rep.drift,
                         item.drift_before, item.events, lang),
        alert_line=view.line, firing=view.level == "firing",
        overlap_threshold=rep.thresholds.overlap if rep.thresholds else None,
        notes=[lang._(n) for n in rep.notes if today.posts or not item.unanalysed_day],
        risks=risks, alert=view, unanalysed=item.unanalysed_day,
        state_lines=_state_lines(rep.freshness, item.unanalysed_day, day, lang),
        voice_line=_voice_line(item.voice_day, item.voice_week, lang),
        pair_url=f"{base_url}/pairs/{quote(rep.pair, safe='')}" if base_url else None,
        language=lang.code)


def alert_view(alert: AlertState | None, silence: Silence | None, week: PeriodStats,
               threshold: float, fresh: Freshness | None, lang: Lang) -> AlertView:
    """The alert state the digest shows: the running service's, else its own 7-day figure."""
    evaluated = alert.last_evaluated_at if alert else None
    running = fresh.service_running if fresh is not None else evaluated is not None
    if alert is not None and evaluated is not None and running:
        when = lang.when_zoned(evaluated)
        if alert.status is AlertStatus.FIRING:
            since = lang.when_zoned(alert.active_since) if alert.active_since else "?"
            line = lang._("Alert now: FIRING since %(since)s (rate %(rate)s); evaluated by the "
                          "service at %(when)s.", since=since, rate=lang.pct(alert.last_rate),
                          when=when)
        elif alert.status is AlertStatus.PENDING:
            line = lang._("Alert now: pending (rate %(rate)s; it fires if it holds); evaluated "
                          "by the service at %(when)s.", rate=lang.pct(alert.last_rate),
                          when=when)
        else:
            line = lang._("Alert now: not firing; evaluated by the service at %(when)s.",
                          when=when)
        view = AlertView(alert.status.value, True, line)
    else:
        above = week.overlap_rate is not None and week.overlap_rate >= threshold
        if evaluated is None:
            why = lang._("no running service (`monitor run`) has evaluated the alert, so no "
                         "alert notification is sent.")
        else:
            why = lang._("the service last evaluated the alert on %(when)s: is `monitor run` "
                         "running?", when=lang.when_zoned(evaluated))
        line = (lang._("Alert: the 7-day overlap rate is at or above the alert threshold; "
                       "%(why)s", why=why) if above else
                lang._("Alert: the 7-day overlap rate is below the alert threshold; "
                       "%(why)s", why=why))
        view = AlertView("above" if above else "below", False, line)
    if silence is not None:
        who = lang._(" by %(author)s", author=silence.author) if silence.author else ""
        line = view.line.rstrip() + " " + lang._("Notifications silenced until "
                                                 "%(until)s%(who)s.",
                                                 until=lang.when_zoned(silence.until), who=who)
        if silence.reason:
            line = line[:-1] + f" ({silence.reason})."
        view = AlertView(view.level, view.by_service, line)
    return view


def _state_lines(fresh: Freshness | None, unanalysed: int, day: date, lang: Lang) -> list[str]:
    out = []
    if unanalysed:
        out.append(lang.n_("%(n)d executive post of %(day)s is not analysed yet: its figures "
                           "are not in this digest (run `monitor analyse`).",
                           "%(n)d executive posts of %(day)s are not analysed yet: their "
                           "figures are not in this digest (run `monitor analyse`).",
                           unanalysed, day=lang.day(day)))
    if fresh is None:
        return out
    for a in fresh.stale_accounts():
        if a.newest is None:
            text = lang._("@%(account)s: no post stored", account=a.username)
        else:
            text = lang._("@%(account)s: newest post %(age)s ago", account=a.username,
                          age=lang.age(fresh.now - a.newest))
        recent = a.last_collected is not None and fresh.now - a.last_collected < timedelta(
            days=1)
        out.append(text + " — " + (lang._("collected %(age)s ago: the account is quiet.",
                                          age=lang.age(fresh.now - a.last_collected))
                                   if recent and a.last_collected else
                                   lang._("is collection running?")))
    out.append(lang._("Last import: %(a)s · last collection from X: %(b)s · last analysis: %(c)s",
                      a=lang.when(fresh.last_import), b=lang.when(fresh.last_collection),
                      c=lang.when(fresh.last_analysis)))
    return out


def _voice_line(day: VoicePath | None, week: VoicePath | None, lang: Lang) -> str:
    if day is None or week is None:
        return ""
    return lang._("Voice: %(own)d own posts, %(qc)d quotes with a comment, %(reply)d replies to "
                  "others, %(relay)d retweets or bare quotes on the day; over 7 days reply "
                  "rate %(rate)s, %(silent)d silent days.",
                  own=day.counts["own"], qc=day.counts["quote-comment"],
                  reply=day.counts["reply"], relay=day.counts["retweet"] + day.counts["quote"],
                  rate=lang.pct(week.reply_rate), silent=week.silent_days)


def _changes(today: PeriodStats, yesterday: PeriodStats, week: PeriodStats,
             previous_week: PeriodStats, threshold: float, drift: DriftResult | None,
             drift_before: DriftResult | None, events: Sequence[AlertEvent],
             lang: Lang) -> list[str]:
    out = [lang._("Executive posts: %(n)d (the day before: %(before)d).", n=today.posts,
                  before=yesterday.posts)]
    out.append(lang._("Overlap rate of the day: %(rate)s (the day before: %(before)s%(delta)s).",
                      rate=lang.pct(today.overlap_rate), before=lang.pct(yesterday.overlap_rate),
                      delta=_delta(today.overlap_rate, yesterday.overlap_rate, lang)))
    line = lang._("7-day overlap rate: %(rate)s (a day earlier: %(before)s%(delta)s)",
                  rate=lang.pct(week.overlap_rate), before=lang.pct(previous_week.overlap_rate),
                  delta=_delta(week.overlap_rate, previous_week.overlap_rate, lang))
    now_above = week.overlap_rate is not None and week.overlap_rate >= threshold
    was_above = previous_week.overlap_rate is not None and previous_week.overlap_rate >= threshold
    if now_above and not was_above:
        line += lang._("; it has reached the alert threshold of %(t)s", t=lang.pct(threshold))
    elif was_above and not now_above:
        line += lang._("; it is back below the alert threshold of %(t)s", t=lang.pct(threshold))
    out.append(line + ".")
    now_status, before_status = drift_status(drift), drift_status(drift_before)
    if now_status != before_status:
        out.append(lang._("Voice drift: %(before)s → %(now)s.",
                          before=lang.drift_label(before_status),
                          now=lang.drift_label(now_status)))
    else:
        out.append(lang._("Voice drift: %(now)s, unchanged.", now=lang.drift_label(now_status)))
    for e in events:
        out.append(lang._("Alert %(kind)s at %(time)s (%(rate)s over %(posts)d posts): "
                          "%(detail)s.", kind=lang.status_label(e.kind), time=lang.time(e.at),
                          rate=lang.pct(e.rate), posts=e.posts, detail=e.detail))
    return out


def drift_status(drift: DriftResult | None) -> str:
    """The drift status a reader sees: a window without posts is not "stable"."""
    if drift is None:
        return "unknown"
    return "no posts" if drift.n_recent == 0 else drift.status


def _delta(now: float | None, before: float | None, lang: Lang) -> str:
    if now is None or before is None:
        return ""
    if round((now - before) * 100) == 0:
        return lang._("; unchanged")
    return lang._("; %(points)s", points=lang.points(now - before))


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
            q = store.queue_latest(d.message(cfg.email.sender, now), now)
            out.append(QueuedDigest(d, q.outcome, q.previous))
    return out


def compose(cfg: MonitorConfig, inputs: Sequence[PairDigestInput], day: date,
            generated_at: datetime) -> list[DigestEmail]:
    """One digest email per recipient list and language (a pair's own list, else [email]
    recipients; a pair's language, else [email] language, else [ui] language)."""
    tz = cfg.schedule.timezone
    groups: dict[tuple[tuple[str, ...], str], list[PairDigest]] = {}
    for item in inputs:
        recipients = cfg.effective(item.pair).recipients
        code = cfg.language_for(item.pair, recipients=True)
        lang = Lang(code, tz)
        groups.setdefault((recipients, code), []).append(
            summarise(item, day, tz, cfg.alerts.threshold, lang=lang, base_url=cfg.ui.base_url,
                      now=generated_at))
    out = []
    for (recipients, code), pairs in groups.items():
        lang = Lang(code, tz)
        env = _environment(lang, cfg.ui.base_url)
        names = "+".join(p.pair for p in pairs)
        if len(names) > 200:
            names = hashlib.sha256(names.encode()).hexdigest()[:16]
        subject = _subject(pairs, day, lang)
        context: dict[str, Any] = {"pairs": pairs, "day": day, "subject": subject,
                                   "generated_at": generated_at.astimezone(tz),
                                   "classes": PostClass, "tz": cfg.schedule.zone_name}
        out.append(DigestEmail(
            key=f"digest:{names}:{day.isoformat()}", day=day, recipients=recipients,
            pairs=tuple(pairs), subject=subject,
            text=env.get_template("digest.txt.j2").render(**context),
            html=env.get_template("digest.html.j2").render(**context), language=code))
    return out


def risk_prefix(risks: Sequence[ReportItem], lang: Lang) -> str:
    """"1 publication sensible : politique": the count and the topics of risk posts."""
    topics = list(dict.fromkeys(lang.topic(i.finding.offlimits_topic) for i in risks))
    return lang.n_("%(n)d sensitive post: %(topics)s", "%(n)d sensitive posts: %(topics)s",
                   len(risks), topics=", ".join(topics))


def _subject(pairs: Sequence[PairDigest], day: date, lang: Lang) -> str:
    def figure(p: PairDigest) -> str:
        if not p.empty and p.today.posts == 0:
            today = lang.n_("%(n)d post not analysed yet", "%(n)d posts not analysed yet",
                            p.unanalysed)
        elif p.empty:
            today = lang._("no executive post")
        else:
            today = lang._("%(rate)s overlap", rate=lang.pct(p.today.overlap_rate))
        return lang._("%(pair)s: %(today)s on %(day)s, 7 days %(week)s", pair=p.pair,
                      today=today, day=lang.day(day), week=lang.pct(p.week.overlap_rate))

    alert = " " + lang._("(ALERT)") if any(p.alarming for p in pairs) else ""
    risks = [i for p in pairs for i in p.risks]
    prefix = risk_prefix(risks, lang) + " · " if risks else ""
    if len(pairs) == 1:
        p = pairs[0]
        return (f"{prefix}[monitor]{alert} {figure(p)} "
                + lang._("(alert at %(t)s)", t=lang.pct(p.threshold)))
    return f"{prefix}[monitor]{alert} " + lang._("Digest %(day)s: ", day=lang.day(day)) + \
        "; ".join(f"{p.pair} {lang.pct(p.today.overlap_rate)} (7 d "
                  f"{lang.pct(p.week.overlap_rate)})" for p in pairs)


def _environment(lang: Lang, base_url: str | None) -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    # Autoescape by template name: on for .html.j2, off for the plain-text .txt.j2.
    # `shown`: every printed value has its direction controls shown as markers (monitor.bidi).
    env = Environment(loader=FileSystemLoader(_TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html.j2", "html"], default=False),
                      extensions=["jinja2.ext.i18n"],
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      finalize=shown)
    install_language(env, lang)
    env.filters["highlight"] = highlight
    env.filters["post_url"] = post_url
    env.filters["local"] = lambda v, tz=None: lang.when(v)
    env.filters["dash_url"] = lambda i, pair: (
        f"{base_url}/pairs/{quote(pair, safe='')}/posts/{quote(i.post.post_id, safe='')}"
        if base_url else None)
    env.globals.update(base_url=base_url, drift_status=drift_status,
                       family_colours={c: FAMILY_COLOURS[family(c)] for c in PostClass})
    return env
