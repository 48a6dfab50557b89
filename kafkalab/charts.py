"""Small line charts as SVG, in pure Python: the course's plots, on the desktop and in the browser edition.

    from kafkalab.charts import line_chart, side_by_side
    line_chart([0, 5, 10], [1.0, 4.2, 7.5], x_label="linger.ms", y_label="records per request")

matplotlib cannot be bundled into the zero-install edition (its Pyodide wheel lives only on a CDN),
so the chapters draw with this instead: the same notebook works in both, and the output is
deterministic text (an inline SVG) that nbval can compare.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Sequence

WIDTH, HEIGHT = 460, 280
LEFT, RIGHT, TOP, BOTTOM = 62, 16, 14, 46
BLUE, RED = "#1f77b4", "#d62728"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2 or 5 times a power of ten)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _label(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.1e}"


@dataclass(frozen=True)
class LineChart:
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    x_label: str
    y_label: str
    color: str = BLUE
    log2_x: bool = False

    def _x(self, value: float) -> float:
        return math.log2(value) if self.log2_x else value

    def svg(self) -> str:
        xs = [self._x(x) for x in self.xs]
        x_ticks = [self._x(x) for x in self.xs] if self.log2_x else nice_ticks(min(xs), max(xs))
        y_ticks = nice_ticks(min(0.0, min(self.ys)), max(self.ys))
        x_low, x_high = min(x_ticks[0], min(xs)), max(x_ticks[-1], max(xs))
        y_low, y_high = y_ticks[0], y_ticks[-1]
        plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

        def px(x: float) -> float:
            return LEFT + (x - x_low) / ((x_high - x_low) or 1) * plot_w

        def py(y: float) -> float:
            return TOP + plot_h - (y - y_low) / ((y_high - y_low) or 1) * plot_h

        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="11">',
                 f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>']
        for tick in y_ticks:
            parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" stroke="#eee"/>'
                         f'<text x="{LEFT - 5}" y="{py(tick) + 4:.1f}" text-anchor="end">{_label(tick)}</text>')
        for tick, shown in zip(x_ticks, self.xs if self.log2_x else x_ticks):
            parts.append(f'<text x="{px(tick):.1f}" y="{TOP + plot_h + 15}" text-anchor="middle">{_label(shown)}</text>')
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, self.ys))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{self.color}" stroke-width="2"/>')
        parts += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{self.color}"/>' for x, y in zip(xs, self.ys)]
        parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 8}" text-anchor="middle">{html.escape(self.x_label)}</text>')
        parts.append(f'<text transform="translate(14,{TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">{html.escape(self.y_label)}</text>')
        parts.append("</svg>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return f"<div>{self.svg()}</div>"

    def __repr__(self) -> str:
        return f"LineChart({self.y_label} against {self.x_label}: {len(self.xs)} points)"


@dataclass(frozen=True)
class SideBySide:
    charts: tuple[LineChart, ...]

    def _repr_html_(self) -> str:
        return "<div style='display:flex;gap:12px;flex-wrap:wrap'>" + "".join(c.svg() for c in self.charts) + "</div>"

    def __repr__(self) -> str:
        return "SideBySide(" + ", ".join(repr(c) for c in self.charts) + ")"


def line_chart(xs: Sequence[float], ys: Sequence[float], x_label: str, y_label: str, color: str = BLUE, log2_x: bool = False) -> LineChart:
    """A line with markers; ``log2_x`` spaces x by its base-2 logarithm (one tick per point)."""
    if len(xs) != len(ys) or not xs:
        raise ValueError(f"a line chart needs as many y values as x values, and at least one (got {len(xs)} and {len(ys)})")
    if log2_x and min(xs) <= 0:
        raise ValueError("a base-2 logarithmic x axis needs positive x values")
    return LineChart(tuple(float(x) for x in xs), tuple(float(y) for y in ys), x_label, y_label, color, log2_x)


def side_by_side(*charts: LineChart) -> SideBySide:
    return SideBySide(tuple(charts))
