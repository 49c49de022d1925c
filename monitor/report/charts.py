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
from monitor.models import PostClass

CLASS_COLOURS = {PostClass.ECHO: "#c0392b", PostClass.OVERLAP: "#e67e22",
                 PostClass.OFF_LINE: "#8e44ad", PostClass.COMPLEMENTARY: "#27ae60"}
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
                         firing: Sequence[Span] = (), chart_id: str = "chart-weekly") -> str:
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
                   linewidth=0, label="weeks at or above the threshold" if n == 0 else None)
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
                        label="alert firing (alert history)" if n == 0 else None)
    ax.plot(mids, rates, color=RATE_COLOUR, marker="o", markersize=3.5, linewidth=1.6,
            label="overlap rate")
    if threshold is not None:
        ax.axhline(threshold * 100, color="#333", linestyle="--", linewidth=1,
                   label=f"alert threshold {threshold:.0%}")
    if first is not None and last is not None:
        ax.set_xlim(first, last)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=12))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y" if len(weeks) > 30
                                                      else "%d %b"))
    ax.tick_params(axis="x", labelsize=8, rotation=30)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel("overlap rate (%)", fontsize=9)
    ax.set_ylim(0, top)
    ax.legend(fontsize=8, frameon=False, ncol=4, loc="lower left", bbox_to_anchor=(0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, chart_id, "Weekly overlap rate", _weekly_desc(weeks, threshold, hot,
                                                                     firing))


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
                 hot: Sequence[PeriodStats], firing: Sequence[Span]) -> str:
    known = [w for w in weeks if w.overlap_rate is not None]
    if not known:
        return "No executive posts in this period."
    peak = max(known, key=lambda w: w.overlap_rate or 0.0)
    text = (f"{len(weeks)} weeks from {weeks[0].start:%Y-%m-%d}; highest overlap rate "
            f"{(peak.overlap_rate or 0):.0%} in the week of {peak.start:%Y-%m-%d}.")
    if threshold is not None:
        text += f" {len(hot)} weeks at or above the {threshold:.0%} alert threshold."
    if firing:
        text += f" {len(firing)} alert firing periods in the alert history."
    return text


@_one_at_a_time
def class_mix_chart(weeks: Sequence[PeriodStats], chart_id: str = "chart-mix") -> str:
    """Stacked weekly counts of each class."""
    fig = _figure(8, 2.8)
    ax = fig.subplots()
    bottom = [0] * len(weeks)
    for cls in (PostClass.COMPLEMENTARY, PostClass.OFF_LINE, PostClass.OVERLAP, PostClass.ECHO):
        values = [w.counts[cls] for w in weeks]
        ax.bar(range(len(weeks)), values, bottom=bottom, color=CLASS_COLOURS[cls],
               label=cls.value)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(weeks) // 16)  # a year of weeks stays legible
    ax.set_xticks(range(0, len(weeks), step),
                  [w.start.strftime("%d %b") for w in weeks][::step], rotation=45, ha="right",
                  fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel("posts", fontsize=9)
    ax.legend(fontsize=8, frameon=False, ncol=4, loc="lower left", bbox_to_anchor=(0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    totals = {cls: sum(w.counts[cls] for w in weeks) for cls in PostClass}
    desc = (f"Executive posts per week by class over {len(weeks)} weeks: "
            + ", ".join(f"{cls.value} {n}" for cls, n in totals.items()) + ".")
    return _svg(fig, chart_id, "Class mix per week", desc)


@_one_at_a_time
def similarity_histogram(similarities: Sequence[float], threshold: float | None,
                         chart_id: str = "chart-similarity") -> str:
    """Distribution of nearest-corporate similarity, with the overlap threshold marked."""
    fig = _figure(8, 2.6)
    ax = fig.subplots()
    values = list(similarities)
    ax.hist(values, bins=30, range=(-0.2, 1.0), color="#7f8c8d")
    above = sum(1 for v in values if threshold is not None and v >= threshold)
    if threshold is not None:
        ax.axvline(threshold, color="#c0392b", linestyle="--", linewidth=1.2)
        ax.text(threshold, ax.get_ylim()[1] * 0.95, f" overlap threshold {threshold:.2f}",
                color="#c0392b", fontsize=8, va="top")
    ax.set_xlabel("similarity to the nearest corporate post in the lag window", fontsize=9)
    ax.set_ylabel("posts", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    desc = f"Histogram of {len(values)} executive posts' similarity to the nearest corporate post"
    desc += (f"; {above} at or above the overlap threshold {threshold:.2f}."
             if threshold is not None else ".")
    return _svg(fig, chart_id, "Similarity distribution", desc)
