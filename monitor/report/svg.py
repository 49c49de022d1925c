"""A small SVG plotting surface: axes, bars, lines, bands, labels and a legend, nothing else.

The report's four charts are bars, one line and a histogram. matplotlib drew them in about 2 s
for a year (0.5 s of that only to import it), most of a year's report; these few primitives draw
the same charts in milliseconds, as plain SVG a browser lays out and prints. The output is made
for inlining into HTML that loads nothing: no XML prologue, no namespace URL, no script, one id
per chart (several charts share a page), every text escaped, and a `<title>`/`<desc>` pair so a
screen reader announces what the chart shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import escape

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK, GRID, MUTED = "#222", "#e3e3e3", "#555"
# Width of an average character at 11 px, for laying out legends and margins without a font.
CHAR_PX = 6.3


def nice_step(top: float, most: int = 6) -> float:
    """A tick step of 1, 2, 2.5 or 5 times a power of ten, at most `most` steps up to `top`."""
    raw = max(top, 1e-9) / most
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def nice_ceiling(value: float) -> float:
    """The smallest round tick at or above `value` (an axis that ends on a labelled tick)."""
    step = nice_step(value)
    return math.ceil(value / step - 1e-9) * step


def nice_ticks(top: float, most: int = 6) -> list[float]:
    """Round tick values from 0 up to `top`."""
    if top <= 0:
        return [0.0]
    step = nice_step(top, most)
    return [round(i * step, 10) for i in range(int(top / step + 1e-9) + 1)]


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass
class Plot:
    """A plot area in data coordinates (x from `x0` to `x1`, y from 0 to `top`) inside a
    `width` x `height` pixel canvas; elements are appended in drawing order."""

    width: float
    height: float
    x0: float
    x1: float
    top: float
    left: float = 52
    right: float = 14
    bottom: float = 46
    legend_rows: int = 0
    parts: list[str] = field(default_factory=list)

    @property
    def plot_top(self) -> float:
        return 10 + 17 * self.legend_rows

    def px(self, x: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (x - self.x0) / span * (self.width - self.left - self.right)

    def py(self, y: float) -> float:
        inner = self.height - self.bottom - self.plot_top
        return self.plot_top + inner * (1 - min(max(y, 0.0), self.top) / (self.top or 1.0))

    # -- shapes -------------------------------------------------------------------------------

    def rect(self, x: float, y: float, w: float, h: float, fill: str,
             opacity: float | None = None, css: str | None = None) -> None:
        """A rectangle in data coordinates: x..x+w, y..y+h; `css` names what it shows."""
        left, right = self.px(x), self.px(x + w)
        low, high = self.py(y), self.py(y + h)
        if right - left <= 0 or low - high <= 0:
            return
        alpha = f' fill-opacity="{opacity}"' if opacity is not None else ""
        named = f' class="{css}"' if css else ""
        self.parts.append(f'<rect x="{_n(left)}" y="{_n(high)}" width="{_n(right - left)}" '
                          f'height="{_n(low - high)}" fill="{fill}"{alpha}{named}/>')

    def band(self, x_lo: float, x_hi: float, y_lo: float, y_hi: float, fill: str,
             opacity: float | None = None, css: str | None = None) -> None:
        self.rect(x_lo, y_lo, x_hi - x_lo, y_hi - y_lo, fill, opacity, css)

    def line(self, points: Sequence[tuple[float, float | None]], stroke: str, width: float = 1.6,
             dash: str | None = None, markers: float = 0) -> None:
        """A polyline through the points; a None y breaks it (a week without posts)."""
        runs: list[list[tuple[float, float]]] = [[]]
        for x, y in points:
            if y is None:
                runs.append([])
            else:
                runs[-1].append((self.px(x), self.py(y)))
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        for run in [r for r in runs if r]:
            d = "M" + " L".join(f"{_n(x)} {_n(y)}" for x, y in run)
            self.parts.append(f'<path d="{d}" fill="none" stroke="{stroke}" '
                              f'stroke-width="{width}"{dashed} stroke-linejoin="round"/>')
            if markers:
                r = markers
                # A marker is a small diamond path: it prints crisply and counts as a shape.
                self.parts.append(
                    f'<path d="{" ".join(f"M{_n(x - r)} {_n(y)} L{_n(x)} {_n(y - r)} L{_n(x + r)} {_n(y)} L{_n(x)} {_n(y + r)} Z" for x, y in run)}" '  # noqa: E501
                    f'fill="{stroke}"/>')

    def hline(self, y: float, stroke: str, dash: str | None = None, width: float = 1) -> None:
        self.line([(self.x0, y), (self.x1, y)], stroke, width, dash)

    def vline(self, x: float, stroke: str, dash: str | None = None, width: float = 1.2) -> None:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<path d="M{_n(self.px(x))} {_n(self.py(self.top))} V'
                          f'{_n(self.py(0))}" stroke="{stroke}" stroke-width="{width}"'
                          f'{dashed}/>')

    def text(self, x_px: float, y_px: float, text: str, *, size: float = 11,
             anchor: str = "start", colour: str = INK, rotate: float = 0) -> None:
        turn = f' transform="rotate({_n(rotate)} {_n(x_px)} {_n(y_px)})"' if rotate else ""
        self.parts.append(f'<text x="{_n(x_px)}" y="{_n(y_px)}" font-size="{_n(size)}" '
                          f'text-anchor="{anchor}" fill="{colour}"{turn}>{escape(text)}</text>')

    # -- axes and legend ----------------------------------------------------------------------

    def y_axis(self, label: str, fmt: str = "{:g}") -> None:
        for tick in nice_ticks(self.top):
            y = self.py(tick)
            self.parts.append(f'<path d="M{_n(self.left)} {_n(y)} H{_n(self.width - self.right)}"'
                              f' stroke="{GRID}" stroke-width="1"/>')
            self.text(self.left - 5, y + 3.5, fmt.format(tick), size=10, anchor="end",
                      colour=MUTED)
        middle = (self.plot_top + self.height - self.bottom) / 2
        self.text(13, middle, label, size=11, anchor="middle", colour=MUTED, rotate=-90)

    def fit_x_labels(self, ticks: Sequence[tuple[float, str]], rotate: float = -40) -> None:
        """Margins wide enough for the x tick labels (call before drawing): a rotated label
        reaches down and to the left of its tick by its length."""
        if not ticks or not rotate:
            return
        longest = max(len(text) for _, text in ticks) * CHAR_PX * 0.91  # 10 px text
        turn = math.radians(abs(rotate))
        self.bottom = max(self.bottom, 18 + longest * math.sin(turn))
        first = min(ticks)[0]
        reach = len(min(ticks)[1]) * CHAR_PX * 0.91 * math.cos(turn)
        # The first label ends at its tick: the plot starts far enough right for it to fit.
        share = (first - self.x0) / ((self.x1 - self.x0) or 1.0)
        inner = self.width - self.left - self.right
        if self.left + share * inner - reach < 2:
            self.left = min(reach + 2, self.width / 4)

    def x_axis(self, ticks: Sequence[tuple[float, str]], label: str | None = None,
               rotate: float = -40) -> None:
        base = self.py(0)
        self.parts.append(f'<path d="M{_n(self.left)} {_n(base)} H{_n(self.width - self.right)}"'
                          f' stroke="{INK}" stroke-width="1"/>')
        for x, text in ticks:
            at = self.px(x)
            self.parts.append(f'<path d="M{_n(at)} {_n(base)} v4" stroke="{INK}"/>')
            if rotate:
                self.text(at + 3, base + 14, text, size=10, anchor="end", colour=MUTED,
                          rotate=rotate)
            else:
                self.text(at, base + 15, text, size=10, anchor="middle", colour=MUTED)
        if label:
            self.text((self.left + self.width - self.right) / 2, self.height - 6, label,
                      size=11, anchor="middle", colour=MUTED)

    def legend(self, items: Sequence[tuple[str, str, str]]) -> None:
        """(kind, colour, label) with kind "box", "line" or "dash", laid out in rows above the
        plot; call `legend_layout` first so the plot leaves room for it."""
        x, row = self.left, 0
        for kind, colour, label in items:
            w = 22 + CHAR_PX * len(label)
            if x + w > self.width - self.right and x > self.left:
                x, row = self.left, row + 1
            y = 12 + 17 * row
            if kind == "box":
                self.parts.append(f'<rect x="{_n(x)}" y="{_n(y - 8)}" width="11" height="9" '
                                  f'fill="{colour}"/>')
            else:
                dashed = ' stroke-dasharray="4 3"' if kind == "dash" else ""
                self.parts.append(f'<path d="M{_n(x - 1)} {_n(y - 3.5)} h13" stroke="{colour}"'
                                  f' stroke-width="2"{dashed}/>')
            self.text(x + 16, y, label, size=11)
            x += w + 6

    def legend_layout(self, labels: Sequence[str]) -> None:
        x, rows = self.left, 1
        for label in labels:
            w = 22 + CHAR_PX * len(label)
            if x + w > self.width - self.right and x > self.left:
                x, rows = self.left, rows + 1
            x += w + 6
        self.legend_rows = rows if labels else 0

    def render(self, chart_id: str, title: str, desc: str) -> str:
        return (f'<svg id="{chart_id}" role="img" aria-labelledby="{chart_id}-title '
                f'{chart_id}-desc" viewBox="0 0 {_n(self.width)} {_n(self.height)}" '
                f'width="{_n(self.width)}" height="{_n(self.height)}" font-family="{FONT}">'
                f'\n <title id="{chart_id}-title">{escape(title)}</title>'
                f'\n <desc id="{chart_id}-desc">{escape(desc)}</desc>\n '
                + "\n ".join(self.parts) + "\n</svg>")
