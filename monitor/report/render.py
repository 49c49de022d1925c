"""Turning a PairReport into HTML, Markdown, JSON or CSV.

Every post text is untrusted: HTML goes through Jinja2 with autoescape, Markdown escapes the
characters a Markdown viewer would read as HTML or table syntax, CSV cells that a spreadsheet
would run as formulas are defused.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from monitor.analysis.text import fold
from monitor.models import Post, PostClass
from monitor.report.model import PairReport

FORMATS = ("html", "md", "json", "csv")
_TEMPLATES = Path(__file__).parent / "templates"
_WORD = re.compile(r"\w+", re.UNICODE)


def post_url(post: Post) -> str:
    return f"https://x.com/{post.account}/status/{post.post_id}"


def highlight(text: str, terms: tuple[str, ...] | list[str]) -> Markup:
    """Escaped text with the shared terms wrapped in <mark>."""
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


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(_TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["highlight"] = highlight
    env.filters["post_url"] = post_url
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:.0%}"
    env.filters["num"] = lambda v, d=2: "–" if v is None else f"{v:.{d}f}"
    env.filters["day"] = lambda v: v.strftime("%Y-%m-%d") if v else "–"
    env.filters["when"] = lambda v: v.strftime("%Y-%m-%d %H:%M UTC") if v else "–"
    return env


def render_html(report: PairReport) -> str:
    from monitor.report import charts

    threshold = report.thresholds.overlap if report.thresholds else None
    sims = [i.finding.similarity for i in report.items if i.finding.similarity is not None]
    chart_svgs = {}
    if report.weekly:
        chart_svgs["weekly"] = Markup(charts.weekly_overlap_chart(report.weekly,
                                                                  report.alert_threshold))
        chart_svgs["mix"] = Markup(charts.class_mix_chart(report.weekly))
    if sims:
        chart_svgs["similarity"] = Markup(charts.similarity_histogram(sims, threshold))
    return str(_environment().get_template("report.html.j2").render(
        r=report, charts=chart_svgs, classes=PostClass,
        top=report.top_overlaps(25),
        offline=report.flagged(PostClass.OFF_LINE)))


def md_escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return re.sub(r"([\\`*_\[\]#])", r"\\\1", text).replace("\\\\|", "\\|")


def render_md(report: PairReport) -> str:
    env = _environment()
    env.autoescape = False
    env.filters["md"] = md_escape
    return str(env.get_template("report.md.j2").render(
        r=report, classes=PostClass, top=report.top_overlaps(25),
        offline=report.flagged(PostClass.OFF_LINE)))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
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


def report_dict(report: PairReport) -> dict[str, Any]:
    return {
        "pair": report.pair, "executive": list(report.executive),
        "corporate": list(report.corporate), "model": report.model,
        "period": {"start": report.start.isoformat(), "end": report.end.isoformat()},
        "generated_at": report.generated_at.isoformat(),
        "thresholds": _plain(report.thresholds),
        "totals": {"posts": report.totals.posts, "overlap_rate": report.totals.overlap_rate,
                   "counts": {c.value: n for c, n in report.totals.counts.items()}},
        "weekly": [{"week": w.start.isoformat(), "posts": w.posts,
                    "overlap_rate": w.overlap_rate,
                    "counts": {c.value: n for c, n in w.counts.items()}}
                   for w in report.weekly],
        "drift": _plain(report.drift),
        "posts": [{"finding": _plain(i.finding), "text": i.post.text, "url": post_url(i.post),
                   "nearest": ({"post_id": i.nearest.post_id, "account": i.nearest.account,
                                "text": i.nearest.text, "url": post_url(i.nearest),
                                "created_at": i.nearest.created_at.isoformat()}
                               if i.nearest else None)}
                  for i in report.items],
        "notes": report.notes,
    }


def render_json(report: PairReport) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A leading =, +, - or @ makes spreadsheets evaluate the cell; a quote keeps it as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(report: PairReport) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["post_id", "account", "created_at", "class", "reason", "similarity",
                     "lexical", "nearest_post_id", "nearest_account", "nearest_text", "text",
                     "url"])
    for i in report.items:
        f = i.finding
        writer.writerow([_cell(v) for v in (
            f.post_id, f.account, f.created_at.isoformat(), f.post_class.value, f.reason,
            None if f.similarity is None else f"{f.similarity:.4f}",
            None if f.lexical is None else f"{f.lexical:.4f}", f.nearest_id,
            f.nearest_account, i.nearest.text if i.nearest else None, i.post.text,
            post_url(i.post))])
    return buf.getvalue()


def render(report: PairReport, fmt: str) -> str:
    renderers = {"html": render_html, "md": render_md, "json": render_json, "csv": render_csv}
    return renderers[fmt](report)
