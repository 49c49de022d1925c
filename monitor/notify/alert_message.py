"""One alert message per pair and evaluation: the overlap alert's transition and the new risk
posts together, with a severity, as an HTML+text email and a chat/webhook payload.

A risk (a post in an off-limits class) is announced at once, with no pending period and
whatever the silences (a silence is for a planned campaign that makes the executive echo the
brand; it never mutes a political post). Severities: `critical` for a risk, `warning` for an
overlap alert firing or still firing, `info` for its resolution.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from monitor.config import MonitorConfig, PairConfig
from monitor.i18n import FAMILY_COLOURS, Lang
from monitor.models import OutboxMessage, PostClass, family
from monitor.notify.alerts import AlertSettings, Notification, NotificationKind
from monitor.notify.email import build_email
from monitor.notify.webhook import webhook_payload
from monitor.report.model import ReportItem
from monitor.report.render import highlight, install_language, post_url

_TEMPLATES = Path(__file__).parent / "templates"
LIST_LIMIT = 20


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


_ORDER = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)


@dataclass(frozen=True)
class PairAlert:
    pair: str
    key: str  # alert:<pair>:<episode>:<transition>[+risk:<posts>] (idempotency)
    severity: Severity
    subject: str
    text: str
    html: str
    risk_posts: tuple[str, ...]


def severity_of(note: Notification | None, risks: Sequence[ReportItem]) -> Severity:
    found = [Severity.CRITICAL] if risks else []
    if note is not None:
        found.append(Severity.INFO if note.kind is NotificationKind.RESOLVED
                     else Severity.WARNING)
    return min(found, key=_ORDER.index)


def pair_alert(cfg: MonitorConfig, pair: PairConfig, notes: Sequence[Notification],
               risks: Sequence[ReportItem], flagged: Sequence[ReportItem],
               settings: AlertSettings, now: datetime) -> PairAlert | None:
    """The message of one evaluation of `pair`, or None when there is nothing to say."""
    note = notes[-1] if notes else None
    if note is None and not risks:
        return None
    lang = Lang.of(cfg.language_for(pair, recipients=True), cfg.schedule.timezone)
    severity = severity_of(note, risks)
    ids = tuple(i.post.post_id for i in risks)
    key_parts = [note.key] if note else []
    if risks:
        digest = hashlib.sha256(",".join(sorted(ids)).encode()).hexdigest()[:12]
        key_parts.append(f"alert:{pair.name}:risk:{digest}")
    key = "+".join(key_parts).replace(f"+alert:{pair.name}:", "+")
    subject = _subject(pair.name, note, risks, settings, lang)
    base = cfg.ui.base_url
    context: dict[str, Any] = {
        "pair": pair.name, "note": note, "risks": risks[:LIST_LIMIT],
        "flagged": flagged[:LIST_LIMIT] if note and note.kind is not NotificationKind.RESOLVED
        else [], "severity": severity, "subject": subject, "settings": settings,
        "pair_url": f"{base}/pairs/{quote(pair.name, safe='')}" if base else None,
        "summary": _summary(pair.name, note, settings, lang) if note else "", "now": now}
    env = _environment(lang, base, pair.name)
    return PairAlert(pair.name, key, severity, subject,
                     env.get_template("alert.txt.j2").render(**context),
                     env.get_template("alert.html.j2").render(**context), ids)


def _subject(pair: str, note: Notification | None, risks: Sequence[ReportItem],
             settings: AlertSettings, lang: Lang) -> str:
    from monitor.notify.digest import risk_prefix

    parts = []
    if risks:
        parts.append(risk_prefix(risks, lang))
    if note is not None:
        rate = lang.pct(note.rate) if note.rate is not None else lang._("no data")
        if note.kind is NotificationKind.RESOLVED:
            parts.append(lang._("[monitor] RESOLVED %(pair)s: overlap rate back to %(rate)s",
                                pair=pair, rate=rate))
        else:
            label = (lang._("FIRING") if note.kind is NotificationKind.FIRING
                     else lang._("STILL FIRING"))
            parts.append(lang._("[monitor] %(label)s %(pair)s: overlap rate %(rate)s over "
                                "%(days)d days", label=label, pair=pair, rate=rate,
                                days=settings.window_days))
    else:
        parts.append(f"[monitor] {pair}")
    return " · ".join(parts)


def _summary(pair: str, n: Notification, settings: AlertSettings, lang: Lang) -> str:
    rate = lang.pct(n.rate) if n.rate is not None else lang._("no data")
    values = {"pair": pair, "rate": rate, "posts": n.posts, "days": settings.window_days,
              "threshold": lang.pct(settings.threshold),
              "recover": lang.pct(settings.recover_threshold)}
    if n.kind is NotificationKind.RESOLVED:
        return lang._("Resolved: the overlap rate of pair %(pair)s over the last %(days)d days "
                      "is %(rate)s (%(posts)d executive posts), below the recovery threshold "
                      "%(recover)s.", **values)
    return lang._("The overlap rate of pair %(pair)s over the last %(days)d days is %(rate)s "
                  "(%(posts)d executive posts); the alert threshold is %(threshold)s. The "
                  "executive's posts echo or paraphrase the corporate account(s) too often. "
                  "The alert resolves when the rate falls below %(recover)s.", **values)


def _environment(lang: Lang, base_url: str | None, pair: str) -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(_TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html.j2"], default=False),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    install_language(env, lang)
    env.filters["highlight"] = highlight
    env.filters["post_url"] = post_url
    env.filters["dash_url"] = lambda i: (
        f"{base_url}/pairs/{quote(pair, safe='')}/posts/{quote(i.post.post_id, safe='')}"
        if base_url else None)
    env.globals["family_colours"] = {c: FAMILY_COLOURS[family(c)] for c in PostClass}
    env.globals["classes"] = PostClass
    return env


def alert_messages(cfg: MonitorConfig, pair: PairConfig, alert: PairAlert, now: datetime, *,
                   channels: Sequence[str]) -> list[OutboxMessage]:
    """The pair's message as an email to its recipients (if any) and one message per chat or
    webhook channel configured, with per-channel idempotency keys."""
    messages: list[OutboxMessage] = []
    recipients = cfg.effective(pair).recipients
    if recipients:
        payload = build_email(key=f"{alert.key}:email", sender=cfg.email.sender,
                              recipients=recipients, subject=alert.subject, text=alert.text,
                              html=alert.html, date=now)
        messages.append(OutboxMessage(f"{alert.key}:email", "email", alert.subject, payload,
                                      recipients, pair.name))
    for channel in channels:
        messages.append(OutboxMessage(
            f"{alert.key}:{channel}", channel, alert.subject,
            webhook_payload(alert.text, title=alert.subject, severity=alert.severity.value),
            (), pair.name))
    return messages
