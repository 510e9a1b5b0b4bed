"""When does the disk fill? A least-squares line through the last 30 days of used space.

Pure arithmetic on (time, used bytes) points, no database: the dashboard feeds it the
snapshots, the tests feed it synthetic series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from media.formatting import human_size

WINDOW_DAYS = 30
FLAT_BYTES_PER_DAY = 1024**2  # under 1 MB a day the disk is "not filling"
MAX_YEARS = 50  # beyond this, a date means nothing


@dataclass(frozen=True)
class FillProjection:
    state: str  # "filling" | "not_filling" | "full" | "unknown"
    bytes_per_day: float | None = None
    fill_at: datetime | None = None
    reason: str = ""
    line: tuple[datetime, float, datetime, float] | None = None  # the fitted line, to draw

    @property
    def rate_human(self) -> str:
        if self.bytes_per_day is None:
            return "—"
        sign = "−" if self.bytes_per_day < 0 else "+"
        return f"{sign}{human_size(int(abs(self.bytes_per_day)))} a day"


def _fit(points: list[tuple[datetime, int]]) -> tuple[float, float, datetime]:
    """Slope (bytes a day) and intercept at the first point's time, by least squares."""
    origin = points[0][0]
    xs = [(at - origin).total_seconds() / 86400 for at, _ in points]
    ys = [float(used) for _, used in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var
    return slope, mean_y - slope * mean_x, origin


def fill_projection(
    *, points: list[tuple[datetime, int]], capacity_bytes: int | None, now: datetime
) -> FillProjection:
    """The date used space reaches capacity at the rate of the last WINDOW_DAYS."""
    recent = sorted(p for p in points if p[0] >= now - timedelta(days=WINDOW_DAYS))
    if not capacity_bytes:
        return FillProjection("unknown", reason="capacity not set")
    if recent and recent[-1][1] >= capacity_bytes:
        return FillProjection("full", reason="the disk is full")
    if len(recent) < 2 or recent[-1][0] - recent[0][0] < timedelta(days=1):
        return FillProjection("unknown", reason="less than a day of storage history")
    slope, intercept, origin = _fit(recent)
    line = (origin, intercept, now, intercept + slope * (now - origin).total_seconds() / 86400)
    if slope < FLAT_BYTES_PER_DAY:
        return FillProjection("not_filling", slope, reason="flat or falling", line=line)
    days = (capacity_bytes - intercept) / slope
    fill_at = origin + timedelta(days=days)
    if fill_at - now > timedelta(days=365 * MAX_YEARS):
        return FillProjection("not_filling", slope, reason="not within 50 years", line=line)
    return FillProjection("filling", slope, max(fill_at, now), line=line)
