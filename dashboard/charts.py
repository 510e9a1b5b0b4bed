"""Inline SVG charts drawn on the server: coordinates computed here, markup in the template
(templates/dashboard/_chart.html). Readable without JavaScript and scaled by the viewBox,
so the same chart fits 1280 px and 390 px.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from media.formatting import human_size

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28  # room for the axis labels


@dataclass(frozen=True)
class Chart:
    label: str  # the SVG's accessible name
    lines: list[dict] = field(default_factory=list)  # {"points": "x,y …", "css": …}
    bars: list[dict] = field(default_factory=list)  # {"x", "y", "w", "h", "title"}
    y_ticks: list[dict] = field(default_factory=list)  # {"y", "text"}
    x_ticks: list[dict] = field(default_factory=list)  # {"x", "text"}
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot_bottom(self) -> int:
        return HEIGHT - BOTTOM

    @property
    def plot_left(self) -> int:
        return LEFT


class _Scale:
    """Maps a time range and a value range onto the plot area."""

    def __init__(self, start: datetime, end: datetime, top_value: float):
        self.start, self.span = start, max((end - start).total_seconds(), 1.0)
        self.top_value = top_value or 1.0

    def x(self, at: datetime) -> float:
        share = (at - self.start).total_seconds() / self.span
        return round(LEFT + share * (WIDTH - LEFT - RIGHT), 1)

    def y(self, value: float) -> float:
        share = min(max(value / self.top_value, 0.0), 1.0)
        return round(HEIGHT - BOTTOM - share * (HEIGHT - TOP - BOTTOM), 1)


def _y_ticks(scale: _Scale, fmt) -> list[dict]:
    return [
        {"y": scale.y(scale.top_value * n / 4), "text": fmt(scale.top_value * n / 4)}
        for n in range(5)
    ]


def _month_ticks(scale: _Scale, start: datetime, end: datetime) -> list[dict]:
    ticks, day = [], date(start.year, start.month, 1)
    while True:
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        at = datetime(day.year, day.month, 1, tzinfo=start.tzinfo)
        if at > end:
            return ticks
        ticks.append({"x": scale.x(at), "text": f"{day:%b}"})


def storage_chart(
    *,
    points: list[tuple[datetime, int]],
    capacity_bytes: int | None,
    trend: tuple[datetime, float, datetime, float] | None,
    now: datetime,
    days: int = 90,
) -> Chart:
    """Used space over `days`, the capacity line and the trend of the projection."""
    start = now - timedelta(days=days)
    top = max([capacity_bytes or 0, *(used for _, used in points)]) * 1.05
    scale = _Scale(start, now, top)
    lines = []
    if capacity_bytes:
        y = scale.y(capacity_bytes)
        lines.append({"points": f"{LEFT},{y} {WIDTH - RIGHT},{y}", "css": "capacity"})
    if trend is not None:
        t0, v0, t1, v1 = trend
        coords = f"{scale.x(t0)},{scale.y(v0)} {scale.x(t1)},{scale.y(v1)}"
        lines.append({"points": coords, "css": "trend"})
    shown = [(at, used) for at, used in points if at >= start]
    if shown:
        coords = " ".join(f"{scale.x(at)},{scale.y(used)}" for at, used in shown)
        lines.append({"points": coords, "css": "used"})
    return Chart(
        label=f"Storage used over the last {days} days",
        lines=lines,
        y_ticks=_y_ticks(scale, lambda v: human_size(int(v))),
        x_ticks=_month_ticks(scale, start, now),
    )


def plays_chart(*, weeks: list[tuple[date, int]]) -> Chart:
    """One bar per week."""
    if not weeks:
        return Chart(label="Plays per week")
    top = 4 * max(1, math.ceil(max(p for _, p in weeks) * 1.05 / 4))  # whole-number ticks
    first = datetime(weeks[0][0].year, weeks[0][0].month, weeks[0][0].day)
    scale = _Scale(first, first + timedelta(weeks=len(weeks)), top)
    step = (WIDTH - LEFT - RIGHT) / len(weeks)
    bars = []
    for n, (start, plays) in enumerate(weeks):
        y = scale.y(plays)
        bars.append(
            {
                "x": round(LEFT + n * step + 1, 1),
                "y": y,
                "w": round(max(step - 2, 1), 1),
                "h": round(HEIGHT - BOTTOM - y, 1),
                "title": f"Week of {start:%Y-%m-%d}: {plays} plays",
            }
        )
    return Chart(
        label=f"Plays per week over the last {len(weeks)} weeks",
        bars=bars,
        y_ticks=_y_ticks(scale, lambda v: f"{v:.0f}"),
        x_ticks=_month_ticks(scale, first, first + timedelta(weeks=len(weeks))),
    )
