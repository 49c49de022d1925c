"""Charts as inline SVG, drawn by matplotlib (imported only when a chart is drawn)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from monitor.analysis.rates import PeriodStats
from monitor.models import PostClass

CLASS_COLOURS = {PostClass.ECHO: "#c0392b", PostClass.OVERLAP: "#e67e22",
                 PostClass.OFF_LINE: "#8e44ad", PostClass.COMPLEMENTARY: "#27ae60"}


def _svg(fig: object) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    svg = buf.getvalue()
    # Inline in HTML: drop the XML prologue and DOCTYPE, keep the <svg> element.
    svg = svg[svg.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)


def _pyplot() -> object:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: small, selectable
    matplotlib.rcParams["svg.hashsalt"] = "monitor"  # stable ids across runs
    import matplotlib.pyplot as plt

    return plt


def weekly_overlap_chart(weeks: Sequence[PeriodStats], threshold: float | None) -> str:
    """Weekly overlap rate (bars) with the alert threshold as a dashed line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 2.8), dpi=100)  # type: ignore[attr-defined]
    labels = [w.start.strftime("%d %b") for w in weeks]
    rates = [(w.overlap_rate or 0.0) * 100 for w in weeks]
    colours = ["#c0392b" if threshold is not None and r >= threshold * 100 else "#2c7fb8"
               for r in rates]
    ax.bar(range(len(weeks)), rates, color=colours)
    if threshold is not None:
        ax.axhline(threshold * 100, color="#333", linestyle="--", linewidth=1)
        ax.text(len(weeks) - 0.5, threshold * 100, f" alert {threshold:.0%}", va="bottom",
                ha="right", fontsize=8)
    ax.set_xticks(range(len(weeks)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("overlap rate (%)")
    ax.set_ylim(0, max([*rates, (threshold or 0) * 100, 10]) * 1.15)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def class_mix_chart(weeks: Sequence[PeriodStats]) -> str:
    """Stacked weekly counts of each class."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 2.8), dpi=100)  # type: ignore[attr-defined]
    bottom = [0] * len(weeks)
    for cls in (PostClass.COMPLEMENTARY, PostClass.OFF_LINE, PostClass.OVERLAP, PostClass.ECHO):
        values = [w.counts[cls] for w in weeks]
        ax.bar(range(len(weeks)), values, bottom=bottom, color=CLASS_COLOURS[cls],
               label=cls.value)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(range(len(weeks)), [w.start.strftime("%d %b") for w in weeks], rotation=45,
                  ha="right", fontsize=8)
    ax.set_ylabel("posts")
    ax.legend(fontsize=8, frameon=False, ncol=4, loc="upper left", bbox_to_anchor=(0, 1.18))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def similarity_histogram(similarities: Sequence[float], threshold: float | None) -> str:
    """Distribution of nearest-corporate similarity, with the overlap threshold marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 2.6), dpi=100)  # type: ignore[attr-defined]
    ax.hist(list(similarities), bins=30, range=(-0.2, 1.0), color="#7f8c8d")
    if threshold is not None:
        ax.axvline(threshold, color="#c0392b", linestyle="--", linewidth=1.2)
        ax.text(threshold, ax.get_ylim()[1] * 0.95, f" overlap threshold {threshold:.2f}",
                color="#c0392b", fontsize=8, va="top")
    ax.set_xlabel("similarity to the nearest corporate post in the lag window")
    ax.set_ylabel("posts")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
