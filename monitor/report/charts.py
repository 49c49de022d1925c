"""Charts as inline SVG, drawn by matplotlib (imported only when a chart is drawn).

The SVG is made for inlining into HTML that loads nothing from the network: no XML prologue, no
metadata, no namespace URLs, ids prefixed per chart (several charts share one document), and a
`<title>`/`<desc>` pair so screen readers announce what the chart shows. Figures are built with
the object-oriented API (no pyplot and its global figure list), and drawn one at a time: the
dashboard renders pages from several threads, and matplotlib's font and text caches are not
documented as thread-safe.
"""

from __future__ import annotations

import functools
import io
import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from markupsafe import escape

from monitor.analysis.rates import PeriodStats
from monitor.i18n import CLASS_ORDER, VOICE_KINDS, Lang
from monitor.models import PostClass
from monitor.report.voice import VoiceWeek

# Colours by family, shades within it: risk dark red; redundancy oranges; unusual purple; own
# voice greens.
CLASS_COLOURS = {PostClass.OFF_LIMITS: "#8b0000", PostClass.ECHO: "#d35400",
                 PostClass.OVERLAP: "#e67e22", PostClass.RECYCLED: "#f0b27a",
                 PostClass.OFF_LINE: "#6c3483", PostClass.COMPLEMENTARY: "#1e8449",
                 PostClass.CONVERSATION: "#52be80", PostClass.AMPLIFIED: "#a9dfbf"}
VOICE_COLOURS = {"own": "#1e8449", "quote-comment": "#52be80", "reply": "#2e86c1",
                 "thread": "#85c1e9", "quote": "#f0b27a", "retweet": "#d35400"}
EN = Lang("en")
RATE_COLOUR = "#1f5f99"
ALERT_WEEK_COLOUR = "#f5b7b1"
FIRING_COLOUR = "#922b21"

Span = tuple[datetime, datetime]
_DRAWING = threading.Lock()


def _one_at_a_time(draw: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(draw)
    def locked(*args: Any, **kwargs: Any) -> str:
        with _DRAWING:
            return draw(*args, **kwargs)

    return locked


def _figure(width: float, height: float) -> Any:
    import matplotlib

    # Text stays text (small, selectable, printable); ids are stable across runs.
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "monitor"
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _svg(fig: Any, chart_id: str, title: str, desc: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return inline_svg(buf.getvalue(), chart_id, title, desc)


def inline_svg(svg: str, chart_id: str, title: str, desc: str) -> str:
    """Make a standalone SVG document safe and accessible to inline in an HTML page."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    # Namespace declarations are URLs (not loads, but they read like them) and HTML does not
    # need them; HTML's parser and SVG 2 understand a plain href.
    svg = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg)
    svg = svg.replace("xlink:href=", "href=")
    # Every id gets the chart's prefix, so two charts in a page never share one.
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{chart_id}-\1"', svg)
    svg = re.sub(r'url\(#([^)]+)\)', rf'url(#{chart_id}-\1)', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{chart_id}-\1"', svg)
    # matplotlib's stylesheet applies to `*`; scoped, it cannot touch the rest of the page.
    svg = svg.replace("<style type=\"text/css\">*{", f"<style type=\"text/css\">#{chart_id} *{{")
    head_end = svg.index(">") + 1
    opening = svg[:head_end].replace(
        "<svg", f'<svg id="{chart_id}" role="img" aria-labelledby="{chart_id}-title '
        f'{chart_id}-desc"', 1)
    return (f'{opening}\n <title id="{chart_id}-title">{escape(title)}</title>'
            f'\n <desc id="{chart_id}-desc">{escape(desc)}</desc>{svg[head_end:]}')


def _day(d: date) -> datetime:
    return datetime.combine(d, time(), tzinfo=UTC)


def _naive(moment: datetime) -> datetime:
    """matplotlib's date axis in UTC, without time-zone surprises."""
    return moment.astimezone(UTC).replace(tzinfo=None)


@_one_at_a_time
def weekly_overlap_chart(weeks: Sequence[PeriodStats], threshold: float | None,
                         firing: Sequence[Span] = (), chart_id: str = "chart-weekly",
                         lang: Lang = EN) -> str:
    """The weekly overlap rate over time, the alert threshold, and the alert periods.

    Weeks whose rate is at or above the threshold are shaded; `firing` periods (from the alert
    history) are drawn as a band along the top, so both readings of "alert" are visible.
    """
    import matplotlib.dates as mdates

    fig = _figure(8, 2.9)
    ax = fig.subplots()
    mids = [_naive(_day(w.start)) + timedelta(days=3.5) for w in weeks]
    rates = [float("nan") if w.overlap_rate is None else w.overlap_rate * 100 for w in weeks]
    hot = [w for w in weeks if threshold is not None and w.overlap_rate is not None
           and w.overlap_rate >= threshold]
    for n, (lo, hi) in enumerate(_runs([(w.start, w.end) for w in hot])):
        ax.axvspan(_naive(_day(lo)), _naive(_day(hi)), color=ALERT_WEEK_COLOUR, alpha=0.55,
                   linewidth=0, label=lang._("weeks at or above the threshold") if n == 0 else None)
    top = max([r for r in rates if r == r] + [(threshold or 0) * 100, 10]) * 1.18
    first = _naive(_day(weeks[0].start)) if weeks else None
    last = _naive(_day(weeks[-1].end)) if weeks else None
    for n, (start, end) in enumerate(firing):
        lo, hi = _naive(start), _naive(end)
        if first is not None and last is not None:
            lo, hi = max(lo, first), min(hi, last)
        if hi <= lo:
            continue
        ax.fill_between([lo, hi], top * 0.93, top, color=FIRING_COLOUR, linewidth=0,
                        label=lang._("alert firing (alert history)") if n == 0 else None)
    ax.plot(mids, rates, color=RATE_COLOUR, marker="o", markersize=3.5, linewidth=1.6,
            label=lang._("overlap rate"))
    if threshold is not None:
        ax.axhline(threshold * 100, color="#333", linestyle="--", linewidth=1,
                   label=lang._("alert threshold %(rate)s", rate=lang.pct(threshold)))
    if first is not None and last is not None:
        ax.set_xlim(first, last)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=12))
    from matplotlib.ticker import FuncFormatter

    day_text = lang.day if len(weeks) > 30 else lang.short_day
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _pos: day_text(mdates.num2date(x).date())))
    ax.tick_params(axis="x", labelsize=8, rotation=30)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel(lang._("overlap rate (%)"), fontsize=9)
    ax.set_ylim(0, top)
    ax.legend(fontsize=8, frameon=False, ncol=4, loc="lower left", bbox_to_anchor=(0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, chart_id, lang._("Weekly overlap rate"),
                _weekly_desc(weeks, threshold, hot, firing, lang))


def _runs(spans: Sequence[tuple[date, date]]) -> list[tuple[date, date]]:
    """Adjacent spans merged, so consecutive alert weeks shade as one band (no seams)."""
    out: list[tuple[date, date]] = []
    for lo, hi in spans:
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _weekly_desc(weeks: Sequence[PeriodStats], threshold: float | None,
                 hot: Sequence[PeriodStats], firing: Sequence[Span], lang: Lang) -> str:
    known = [w for w in weeks if w.overlap_rate is not None]
    if not known:
        return lang._("No executive posts in this period.")
    peak = max(known, key=lambda w: w.overlap_rate or 0.0)
    text = lang._("%(weeks)d weeks from %(start)s; highest overlap rate %(rate)s in the week "
                  "of %(peak)s.", weeks=len(weeks), start=lang.day(weeks[0].start),
                  rate=lang.pct(peak.overlap_rate or 0), peak=lang.day(peak.start))
    if threshold is not None:
        text += " " + lang._("%(n)d weeks at or above the %(rate)s alert threshold.",
                             n=len(hot), rate=lang.pct(threshold))
    if firing:
        text += " " + lang._("%(n)d alert firing periods in the alert history.", n=len(firing))
    return text


@_one_at_a_time
def class_mix_chart(weeks: Sequence[PeriodStats], chart_id: str = "chart-mix",
                    lang: Lang = EN) -> str:
    """Stacked weekly counts of each class (risk on top, own voice at the bottom)."""
    fig = _figure(8, 2.8)
    ax = fig.subplots()
    bottom = [0] * len(weeks)
    present = [c for c in reversed(CLASS_ORDER) if any(w.counts[c] for w in weeks)]
    for cls in present:  # a class with no post draws nothing (and costs nothing)
        values = [w.counts[cls] for w in weeks]
        ax.bar(range(len(weeks)), values, bottom=bottom, color=CLASS_COLOURS[cls],
               label=lang.class_label(cls))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    _week_ticks(ax, [w.start for w in weeks], lang)
    ax.set_ylabel(lang._("posts"), fontsize=9)
    ax.legend(fontsize=8, frameon=False, ncol=4, loc="lower left", bbox_to_anchor=(0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    totals = {cls: sum(w.counts[cls] for w in weeks) for cls in CLASS_ORDER}
    desc = lang._("Executive posts per week by class over %(n)d weeks: ", n=len(weeks)) + \
        ", ".join(f"{lang.class_label(cls)} {n}" for cls, n in totals.items()) + "."
    return _svg(fig, chart_id, lang._("Class mix per week"), desc)


def _week_ticks(ax: Any, starts: Sequence[date], lang: Lang) -> None:
    step = max(1, len(starts) // 16)  # a year of weeks stays legible
    ax.set_xticks(range(0, len(starts), step),
                  [lang.short_day(d) for d in starts][::step], rotation=45, ha="right",
                  fontsize=8)
    ax.tick_params(axis="y", labelsize=8)


@_one_at_a_time
def voice_chart(weeks: Sequence[VoiceWeek], chart_id: str = "chart-voice",
                lang: Lang = EN) -> str:
    """The voice path: weekly own posts, quotes, replies and retweets, stacked."""
    fig = _figure(8, 2.6)
    ax = fig.subplots()
    bottom = [0] * len(weeks)
    order = ("own", "quote-comment", "reply", "thread", "quote", "retweet")
    assert set(order) == set(VOICE_KINDS)
    for kind in [k for k in order if any(w.counts[k] for w in weeks)]:
        values = [w.counts[kind] for w in weeks]
        ax.bar(range(len(weeks)), values, bottom=bottom, color=VOICE_COLOURS[kind],
               label=lang.kind_label(kind))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    _week_ticks(ax, [w.start for w in weeks], lang)
    ax.set_ylabel(lang._("posts"), fontsize=9)
    ax.legend(fontsize=8, frameon=False, ncol=3, loc="lower left", bbox_to_anchor=(0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    totals = {k: sum(w.counts[k] for w in weeks) for k in order}
    desc = lang._("Executive posts per week by kind over %(n)d weeks: ", n=len(weeks)) + \
        ", ".join(f"{lang.kind_label(k)} {n}" for k, n in totals.items()) + "."
    return _svg(fig, chart_id, lang._("Voice path per week"), desc)


@_one_at_a_time
def similarity_histogram(similarities: Sequence[float], threshold: float | None,
                         chart_id: str = "chart-similarity", lang: Lang = EN) -> str:
    """Distribution of nearest-corporate similarity, with the overlap threshold marked."""
    fig = _figure(8, 2.6)
    ax = fig.subplots()
    values = list(similarities)
    ax.hist(values, bins=30, range=(-0.2, 1.0), color="#7f8c8d")
    above = sum(1 for v in values if threshold is not None and v >= threshold)
    if threshold is not None:
        ax.axvline(threshold, color="#c0392b", linestyle="--", linewidth=1.2)
        ax.text(threshold, ax.get_ylim()[1] * 0.95,
                " " + lang._("overlap threshold %(t)s", t=lang.num(threshold)),
                color="#c0392b", fontsize=8, va="top")
    ax.set_xlabel(lang._("similarity to the nearest corporate post in the lag window"),
                  fontsize=9)
    ax.set_ylabel(lang._("posts"), fontsize=9)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    desc = lang._("Histogram of %(n)d executive posts' similarity to the nearest corporate "
                  "post", n=len(values))
    desc += ("; " + lang._("%(n)d at or above the overlap threshold %(t)s.", n=above,
                           t=lang.num(threshold)) if threshold is not None else ".")
    return _svg(fig, chart_id, lang._("Similarity distribution"), desc)
