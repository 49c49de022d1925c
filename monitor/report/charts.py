"""The report's charts as inline SVG (see monitor.report.svg for why they are drawn by hand).

Each chart is a pure function of the report's weekly figures: the same input draws the same
bytes, in milliseconds, from any thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from monitor.analysis.rates import PeriodStats
from monitor.i18n import CLASS_ORDER, VOICE_KINDS, Lang
from monitor.models import PostClass
from monitor.report.svg import Plot, nice_ceiling
from monitor.report.voice import VoiceWeek

# Colours by family, shades within it: risk dark red; redundancy oranges; unusual purple; own
# voice greens.
CLASS_COLOURS = {PostClass.OFF_LIMITS: "#8b0000", PostClass.ECHO: "#d35400",
                 PostClass.OVERLAP: "#e67e22", PostClass.RECYCLED: "#f0b27a",
                 PostClass.OFF_LINE: "#6c3483", PostClass.COMPLEMENTARY: "#1e8449",
                 PostClass.CONVERSATION: "#52be80", PostClass.AMPLIFIED: "#a9dfbf"}
VOICE_COLOURS = {"own": "#1e8449", "quote-comment": "#52be80", "reply": "#2e86c1",
                 "thread": "#85c1e9", "quote": "#f0b27a", "retweet": "#d35400"}
VOICE_ORDER = ("own", "quote-comment", "reply", "thread", "quote", "retweet")
EN = Lang("en")
RATE_COLOUR = "#1f5f99"
ALERT_WEEK_COLOUR = "#f5b7b1"
FIRING_COLOUR = "#922b21"
WIDTH = 800.0
WEEK = timedelta(days=7)

Span = tuple[datetime, datetime]
K = TypeVar("K")


def _day(d: date) -> datetime:
    return datetime.combine(d, time(), tzinfo=UTC)


def _week_ticks(starts: Sequence[date], lang: Lang, *, centred: bool = True,
                long: bool = False) -> list[tuple[float, str]]:
    step = max(1, -(-len(starts) // 16))  # a year of weeks stays legible
    text = lang.day if long else lang.short_day
    return [(i + (0.5 if centred else 0.0), text(d)) for i, d in enumerate(starts)][::step]


def weekly_overlap_chart(weeks: Sequence[PeriodStats], threshold: float | None,
                         firing: Sequence[Span] = (), chart_id: str = "chart-weekly",
                         lang: Lang = EN) -> str:
    """The weekly overlap rate over time, the alert threshold, and the alert periods.

    Weeks whose rate is at or above the threshold are shaded; `firing` periods (from the alert
    history) are drawn as a band along the top, so both readings of "alert" are visible.
    """
    rates = [None if w.overlap_rate is None else w.overlap_rate * 100 for w in weeks]
    hot = [w for w in weeks if threshold is not None and w.overlap_rate is not None
           and w.overlap_rate >= threshold]
    peak = max([r for r in rates if r is not None] + [(threshold or 0) * 100, 10])
    top = nice_ceiling(peak * 1.12)  # headroom for the firing band along the top
    plot = Plot(WIDTH, 290, 0, max(len(weeks), 1), top)
    labels = [lang._("weeks at or above the threshold")] if hot else []
    labels.append(lang._("overlap rate"))
    if threshold is not None:
        labels.append(lang._("alert threshold %(rate)s", rate=lang.pct(threshold)))
    if firing:
        labels.append(lang._("alert firing (alert history)"))
    plot.legend_layout(labels)
    ticks = _week_ticks([w.start for w in weeks], lang, long=len(weeks) > 30)
    plot.fit_x_labels(ticks)
    plot.y_axis(lang._("overlap rate (%)"))
    index = {w.start: i for i, w in enumerate(weeks)}
    for w in hot:  # consecutive alert weeks shade as one band: no seams
        plot.band(index[w.start], index[w.start] + 1, 0, top, ALERT_WEEK_COLOUR, 0.55,
                  css="alert-week")
    origin = _day(weeks[0].start) if weeks else None
    shown_firing = False
    for start, end in firing:
        if origin is None:
            break
        lo = max((start - origin) / WEEK, 0.0)
        hi = min((end - origin) / WEEK, float(len(weeks)))
        if hi > lo:
            plot.band(lo, hi, top * 0.93, top, FIRING_COLOUR, css="firing")
            shown_firing = True
    if threshold is not None:
        plot.hline(threshold * 100, "#333", dash="5 4")
    plot.line([(i + 0.5, r) for i, r in enumerate(rates)], RATE_COLOUR, markers=3.2)
    plot.x_axis(ticks)
    items = [("box", ALERT_WEEK_COLOUR, labels[0])] if hot else []
    items.append(("line", RATE_COLOUR, lang._("overlap rate")))
    if threshold is not None:
        items.append(("dash", "#333", lang._("alert threshold %(rate)s",
                                             rate=lang.pct(threshold))))
    if firing and shown_firing:
        items.append(("box", FIRING_COLOUR, lang._("alert firing (alert history)")))
    plot.legend(items)
    return plot.render(chart_id, lang._("Weekly overlap rate"),
                       _weekly_desc(weeks, threshold, hot, firing, lang))


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


def _stacked(weeks: Sequence[Mapping[K, int]], keys: Sequence[K], colours: Mapping[K, str],
             labels: Mapping[K, str], starts: Sequence[date], height: float, y_label: str,
             lang: Lang) -> Plot:
    """Weekly stacked bars, the first key at the bottom; a key with no post draws nothing."""
    present = [k for k in keys if any(w[k] for w in weeks)]
    totals = [sum(w.values()) for w in weeks]
    plot = Plot(WIDTH, height, 0, max(len(weeks), 1), nice_ceiling(max([*totals, 1])))
    legend = [labels[k] for k in reversed(present)]
    plot.legend_layout(legend)
    ticks = _week_ticks(starts, lang)
    plot.fit_x_labels(ticks)
    plot.y_axis(y_label)
    for i, week in enumerate(weeks):
        bottom = 0
        for k in present:
            n = week[k]
            if n:
                plot.rect(i + 0.1, bottom, 0.8, n, colours[k])
                bottom += n
    plot.x_axis(ticks)
    plot.legend([("box", colours[k], labels[k]) for k in reversed(present)])
    return plot


def class_mix_chart(weeks: Sequence[PeriodStats], chart_id: str = "chart-mix",
                    lang: Lang = EN) -> str:
    """Stacked weekly counts of each class (risk on top, own voice at the bottom)."""
    order = list(reversed(CLASS_ORDER))
    plot = _stacked([w.counts for w in weeks], order, CLASS_COLOURS,
                    {c: lang.class_label(c) for c in order}, [w.start for w in weeks], 280,
                    lang._("posts"), lang)
    totals = {cls: sum(w.counts[cls] for w in weeks) for cls in CLASS_ORDER}
    desc = lang._("Executive posts per week by class over %(n)d weeks: ", n=len(weeks)) + \
        ", ".join(f"{lang.class_label(cls)} {n}" for cls, n in totals.items()) + "."
    return plot.render(chart_id, lang._("Class mix per week"), desc)


def voice_chart(weeks: Sequence[VoiceWeek], chart_id: str = "chart-voice",
                lang: Lang = EN) -> str:
    """The voice path: weekly own posts, quotes, replies and retweets, stacked."""
    assert set(VOICE_ORDER) == set(VOICE_KINDS)
    plot = _stacked([w.counts for w in weeks], VOICE_ORDER, VOICE_COLOURS,
                    {k: lang.kind_label(k) for k in VOICE_ORDER}, [w.start for w in weeks],
                    260, lang._("posts"), lang)
    totals = {k: sum(w.counts[k] for w in weeks) for k in VOICE_ORDER}
    desc = lang._("Executive posts per week by kind over %(n)d weeks: ", n=len(weeks)) + \
        ", ".join(f"{lang.kind_label(k)} {n}" for k, n in totals.items()) + "."
    return plot.render(chart_id, lang._("Voice path per week"), desc)


HIST_LO, HIST_HI, HIST_BINS = -0.2, 1.0, 30


def similarity_histogram(similarities: Sequence[float], threshold: float | None,
                         chart_id: str = "chart-similarity", lang: Lang = EN) -> str:
    """Distribution of nearest-corporate similarity, with the overlap threshold marked."""
    counts = [0] * HIST_BINS
    width = (HIST_HI - HIST_LO) / HIST_BINS
    for v in similarities:
        if HIST_LO <= v <= HIST_HI:
            counts[min(int((v - HIST_LO) / width), HIST_BINS - 1)] += 1
    plot = Plot(WIDTH, 260, HIST_LO, HIST_HI, nice_ceiling(max([*counts, 1]) * 1.08))
    plot.y_axis(lang._("posts"))
    for b, n in enumerate(counts):
        plot.rect(HIST_LO + b * width, 0, width * 0.96, n, "#7f8c8d")
    above = sum(1 for v in similarities if threshold is not None and v >= threshold)
    if threshold is not None:
        plot.vline(threshold, "#c0392b", dash="5 4")
        plot.text(plot.px(threshold) + 4, plot.py(plot.top) + 12,
                  lang._("overlap threshold %(t)s", t=lang.num(threshold)), size=11,
                  colour="#c0392b")
    ticks = [(round(HIST_LO + 0.2 * i, 1), lang.num(round(HIST_LO + 0.2 * i, 1)))
             for i in range(7)]
    plot.x_axis(ticks, lang._("similarity to the nearest corporate post in the lag window"),
                rotate=0)
    desc = lang._("Histogram of %(n)d executive posts' similarity to the nearest corporate "
                  "post", n=len(similarities))
    desc += ("; " + lang._("%(n)d at or above the overlap threshold %(t)s.", n=above,
                           t=lang.num(threshold)) if threshold is not None else ".")
    return plot.render(chart_id, lang._("Similarity distribution"), desc)
