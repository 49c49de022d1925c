"""Turning a PairReport into HTML, Markdown, JSON or CSV.

Every post text is untrusted: HTML goes through Jinja2 with autoescape, Markdown escapes the
characters a Markdown viewer would read as HTML or table syntax, CSV cells that a spreadsheet
would run as formulas are defused and every cell holding a line break is quoted. In every
format meant for people, bidirectional controls are shown as markers (`monitor.bidi`); JSON
keeps the text as stored, with those controls written as escapes.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from monitor import bidi
from monitor.analysis.text import fold
from monitor.i18n import CLASS_ORDER, FAMILY_CSS, N_, VOICE_KINDS, Lang
from monitor.models import Post, PostClass, family
from monitor.report.alerts import AlertPeriod, alert_runs, alert_weeks
from monitor.report.model import PairReport
from monitor.report.reasons import days_apart, reason

FORMATS = ("html", "md", "json", "csv")
TEMPLATES = Path(__file__).parent / "templates"
_WORD = re.compile(r"\w+", re.UNICODE)
# A report stays readable; the CSV export (and the dashboard) has every post.
TOP_LIMIT = 25
OFFLINE_LIMIT = 200


def post_url(post: Post) -> str:
    return f"https://x.com/{post.account}/status/{post.post_id}"


def highlight(text: str, terms: tuple[str, ...] | list[str]) -> Markup:
    """Escaped text with the shared terms wrapped in <mark> (direction controls shown)."""
    text = bidi.neutralise(text)
    wanted = set(terms)
    out: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        if fold(match.group()) in wanted:
            out.append(str(escape(text[last:match.start()])))
            out.append(f"<mark>{escape(match.group())}</mark>")
            last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def shown(value: Any) -> Any:
    """Jinja2's `finalize`: every value a template prints has its direction controls shown
    as markers, whatever the template (reports, dashboard, digest), so none can forget it."""
    if isinstance(value, Markup):  # already escaped by our own code: keep it markup
        return Markup(bidi.neutralise(str(value)))
    return bidi.neutralise(value) if isinstance(value, str) else value


def template_environment(*extra_dirs: Path, lang: Lang | None = None) -> Any:
    """The Jinja2 environment of the reports (autoescape on), speaking `lang` (default:
    English, UTC); `extra_dirs` come first, so the dashboard's templates can extend the
    report's."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    lang = lang or Lang("en", UTC)
    env = Environment(loader=FileSystemLoader([*extra_dirs, TEMPLATES]),
                      bytecode_cache=bytecode_cache(),
                      undefined=StrictUndefined, extensions=["jinja2.ext.i18n"],
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      trim_blocks=True, lstrip_blocks=True, finalize=shown)
    install_language(env, lang)
    env.filters["highlight"] = highlight
    env.filters["post_url"] = post_url
    return env


@functools.cache
def bytecode_cache() -> Any:
    """Compiled templates kept between runs (compiling the report's templates is a tenth of a
    year's report). Jinja's per-user directory under the system temporary directory, checked
    to be the user's own, written atomically, keyed by each template's source; nowhere
    writable means no cache, never a failure."""
    from jinja2 import FileSystemBytecodeCache

    class Quiet(FileSystemBytecodeCache):
        def load_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(OSError, EOFError, ValueError):
                super().load_bytecode(bucket)

        def dump_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    try:
        return Quiet()
    except (OSError, RuntimeError):  # no usable temporary directory
        return None


def install_language(env: Any, lang: Lang) -> None:
    """Messages, dates and numbers of `lang` for a template environment."""
    env.install_gettext_callables(lang.gettext, lang.ngettext, newstyle=True)
    env.globals.update(L=lang, lang_code=lang.code, tz_name=lang.zone_name,
                       class_order=CLASS_ORDER, voice_kinds=VOICE_KINDS)
    env.filters["pct"] = lang.pct
    env.filters["num"] = lambda v, d=2: lang.num(v, d)
    env.filters["day"] = lang.day
    env.filters["days"] = lambda v: lang.num(v, 0) if float(v).is_integer() else lang.num(v, 1)
    env.filters["when"] = lang.when
    env.filters["label"] = lang.class_label
    env.filters["fam"] = lambda c: FAMILY_CSS[family(PostClass(c))]
    env.filters["reason"] = lambda i: reason(i.finding, lang, i.post, i.nearest)
    env.filters["freason"] = lambda f: reason(f, lang)
    env.filters["apart"] = lambda i: days_apart(i.finding, i.post, i.nearest)
    # Days apart: whole days from one day on (10, −3), a decimal below (0,4).
    env.filters["apart_days"] = lambda d: lang.num(round(d), 0) if abs(d) >= 1 else lang.num(
        d, 1)
    env.filters["apart_text"] = lambda d: lang.n_(
        "%(d)s day apart", "%(d)s days apart", max(1, round(abs(d))),
        d=lang.num(round(d), 0) if abs(d) >= 1 else lang.num(d, 1))
    env.filters["origin"] = lambda text: lang.gettext(text) if text in ORIGINS else text
    env.filters["drift_text"] = lambda drift: drift_text(drift, lang)
    env.filters["model_line"] = lambda report: model_line(report, lang)


ORIGINS = (N_("configured"), N_("calibrated"),
           N_("default (not enough history to calibrate yet)"),
           N_("default (the off-limits topics changed; recalibrated at the next "
              "`monitor analyse`)"))


def model_line(report: Any, lang: Lang) -> str:
    """Which model the report's findings come from, and why, in the reader's language."""
    choice = report.model_choice
    model = report.model
    if choice is None or choice.basis == "given":
        return lang._("Model: %(model)s.", model=model)
    if choice.basis == "configured":
        return lang._("Model: %(model)s, as configured ([model] name = \"%(name)s\").", model=model,
                       name=choice.name)
    mix = choice.languages or lang._("no post yet")
    if choice.basis == "auto-english":
        return lang._("Model: %(model)s, chosen automatically: the pair writes in English "
                      "(%(mix)s).", model=model, mix=mix)
    return lang._("Model: %(model)s, chosen automatically: the pair writes in French or in "
                  "several languages (%(mix)s), and the multilingual encoder also sees a "
                  "translation as the same message.", model=model, mix=mix)


def drift_text(drift: Any, lang: Lang) -> str:
    """The drift test's result in words (the analysis' message in English)."""
    if drift is None:
        return lang._("not enough posts or vectors yet")
    if lang.code == "en":
        return str(drift.message)
    if drift.n_recent == 0:
        return lang.drift_label("no posts")
    text = lang.drift_label(drift.status)
    if drift.p_value is not None:
        text += f" (p = {lang.num(drift.p_value, 3)})"
    return text + " · " + lang._("%(recent)d recent posts against %(base)d before",
                                 recent=drift.n_recent, base=drift.n_baseline)


def html_context(report: PairReport, *, alerts: Sequence[AlertPeriod] | None = None,
                 lang: Lang | None = None) -> dict[str, Any]:
    """What report.html.j2 (and the dashboard's pair page) shows: charts drawn, lists cut."""
    from monitor.report import charts

    lang = lang or Lang("en", UTC)
    threshold = report.thresholds.overlap if report.thresholds else None
    sims = [i.finding.similarity for i in report.items if i.finding.similarity is not None]
    firing = [(p.start, p.end or report.end) for p in alerts or ()]
    # Every chart is named, drawn or not: an empty period renders as an empty, valid report.
    chart_svgs: dict[str, Markup | None] = {"weekly": None, "mix": None, "similarity": None}
    if report.weekly:
        chart_svgs["weekly"] = Markup(charts.weekly_overlap_chart(
            report.weekly, report.alert_threshold, firing, lang=lang))
        chart_svgs["mix"] = Markup(charts.class_mix_chart(report.weekly, lang=lang))
    if sims:
        chart_svgs["similarity"] = Markup(charts.similarity_histogram(sims, threshold,
                                                                      lang=lang))
    if report.voice is not None and report.voice.posts:
        chart_svgs["voice"] = Markup(charts.voice_chart(report.voice.weeks, lang=lang))
    offline = report.flagged(PostClass.OFF_LINE)
    hot = alert_weeks(report)
    return {"r": report, "charts": chart_svgs, "classes": PostClass,
            "risks": report.risks()[:OFFLINE_LIMIT],
            # Paraphrases first: they are the executive's own words repeating the brand, the
            # finding a comms team can act on; retweets and shared links are listed apart.
            "top": sorted(report.flagged(PostClass.OVERLAP),
                          key=lambda i: -(i.finding.similarity or 0.0))[:TOP_LIMIT],
            "recycled": sorted(report.flagged(PostClass.RECYCLED),
                               key=lambda i: -(i.finding.similarity or 0.0))[:TOP_LIMIT],
            "echoes": report.flagged(PostClass.ECHO)[::-1][:TOP_LIMIT],
            "amplified": report.flagged(PostClass.AMPLIFIED)[::-1][:TOP_LIMIT],
            "offline": offline[-OFFLINE_LIMIT:],
            "offline_more": max(0, len(offline) - OFFLINE_LIMIT),
            "alert_weeks": hot, "alert_runs": alert_runs(hot), "alert_periods": alerts,
            "weeks_with_posts": sum(1 for w in report.weekly if w.posts)}


def render_html(report: PairReport, *, alerts: Sequence[AlertPeriod] | None = None,
                lang: Lang | None = None) -> str:
    """One self-contained, printable page: inline CSS and SVG, no script, nothing loaded."""
    return str(template_environment(lang=lang).get_template("report.html.j2").render(
        html_context(report, alerts=alerts, lang=lang)))


def md_escape(text: str) -> str:
    text = bidi.neutralise(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return re.sub(r"([\\`*_\[\]#])", r"\\\1", text).replace("\\\\|", "\\|")


def render_md(report: PairReport, *, lang: Lang | None = None) -> str:
    env = template_environment(lang=lang)
    env.autoescape = False
    env.filters["md"] = md_escape
    return str(env.get_template("report.md.j2").render(
        r=report, classes=PostClass, top=report.top_overlaps(25), risks=report.risks(),
        recycled=report.flagged(PostClass.RECYCLED), amplified=report.flagged(
            PostClass.AMPLIFIED), offline=report.flagged(PostClass.OFF_LINE)))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def report_dict(report: PairReport, *,
                alerts: Sequence[AlertPeriod] | None = None) -> dict[str, Any]:
    """The report as plain JSON data. `alert_periods` is null when the alert history was not
    consulted, a list (maybe empty) when it was."""
    threshold = report.alert_threshold
    return {
        "pair": report.pair, "executive": list(report.executive),
        "corporate": list(report.corporate), "model": report.model,
        "model_choice": _plain(report.model_choice) if report.model_choice else None,
        "period": {"start": report.start.isoformat(), "end": report.end.isoformat()},
        "generated_at": report.generated_at.isoformat(),
        "thresholds": _plain(report.thresholds),
        "totals": {"posts": report.totals.posts, "overlap_rate": report.totals.overlap_rate,
                   "counts": {c.value: n for c, n in report.totals.counts.items()}},
        "alert_threshold": threshold,
        "weekly": [{"week": w.start.isoformat(), "end": w.end.isoformat(), "posts": w.posts,
                    "overlap_rate": w.overlap_rate,
                    "at_or_above_alert_threshold": bool(
                        threshold is not None and w.overlap_rate is not None
                        and w.overlap_rate >= threshold),
                    "counts": {c.value: n for c, n in w.counts.items()}}
                   for w in report.weekly],
        "alert_periods": None if alerts is None else [
            {"sequence": p.sequence, "start": p.start.isoformat(),
             "end": p.end.isoformat() if p.end else None, "peak_rate": p.peak_rate,
             "detail": p.detail} for p in alerts],
        "drift": _plain(report.drift),
        "posts": [{"finding": _plain(i.finding), "text": i.post.text, "url": post_url(i.post),
                   "nearest": ({"post_id": i.nearest.post_id, "account": i.nearest.account,
                                "text": i.nearest.text, "url": post_url(i.nearest),
                                "created_at": i.nearest.created_at.isoformat()}
                               if i.nearest else None)}
                  for i in report.items],
        "notes": report.notes,
        "voice": None if report.voice is None else {
            "posts": report.voice.posts, "counts": report.voice.counts,
            "reply_rate": report.voice.reply_rate, "days": report.voice.days,
            "silent_days": report.voice.silent_days,
            "weeks": [{"week": w.start.isoformat(), "counts": w.counts}
                      for w in report.voice.weeks]},
        "state": _plain(report.freshness),
    }


def render_json(report: PairReport, *, alerts: Sequence[AlertPeriod] | None = None) -> str:
    return bidi.json_escape(json.dumps(report_dict(report, alerts=alerts), ensure_ascii=False,
                                       indent=2, allow_nan=False)) + "\n"


# What makes a spreadsheet evaluate a cell: a leading =, +, - or @ (and their full-width
# forms, which some spreadsheets read the same), or a tab or line break before one.
_FORMULA_START = ("=", "+", "-", "@", "＝", "＋", "－", "＠")


def text_cell(value: str | None) -> str:
    """A CSV cell of untrusted text: direction controls shown, a would-be formula defused
    with a leading quote (the spreadsheet then shows it as text)."""
    text = bidi.neutralise(value or "")
    if text[:1] in ("\t", "\r", "\n") or text.lstrip(" \t\r\n")[:1] in _FORMULA_START:
        return "'" + text
    return text


def number_cell(value: float | None) -> str:
    """A CSV cell of a number, as the number (-0.0312 stays a number)."""
    return "" if value is None else f"{value:.4f}"


def render_csv(report: PairReport) -> str:
    buf = io.StringIO()
    # CRLF rows (RFC 4180): the writer then quotes every cell holding a \r or a \n, so no
    # line break inside a post can start a new row (with "\n" rows, a lone \r went unquoted).
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["post_id", "account", "created_at", "class", "reason", "similarity",
                     "lexical", "nearest_post_id", "nearest_account", "nearest_text", "text",
                     "url"])
    for i in report.items:
        f = i.finding
        writer.writerow([
            f.post_id, text_cell(f.account), f.created_at.isoformat(), f.post_class.value,
            text_cell(f.reason), number_cell(f.similarity), number_cell(f.lexical),
            f.nearest_id or "", text_cell(f.nearest_account),
            text_cell(i.nearest.text if i.nearest else None), text_cell(i.post.text),
            text_cell(post_url(i.post))])
    return buf.getvalue()


def render(report: PairReport, fmt: str, *,
           alerts: Sequence[AlertPeriod] | None = None, lang: Lang | None = None) -> str:
    """The report in `fmt`; `alerts` (firing periods from the alert history) feed the HTML
    timeline and the JSON; `lang` is the readers' language and time zone (HTML, Markdown:
    JSON and CSV are for machines, ISO-8601 and English keys)."""
    if fmt == "html":
        return render_html(report, alerts=alerts, lang=lang)
    if fmt == "md":
        return render_md(report, lang=lang)
    if fmt == "json":
        return render_json(report, alerts=alerts)
    return render_csv(report)
