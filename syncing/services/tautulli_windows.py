"""Reading Tautulli history in date windows: the plan, and fetching ahead of the writer.

Why windows: Tautulli loads EVERY row matching the filters and slices start/length in Python,
so a page costs as much as its whole filtered set (200k rows in pages of 1,000: 716 s). Each
window (`after`/`before`, inclusive, on the play's start day) is sized from the density seen
so far to hold about TAUTULLI_WINDOW_ROWS rows, read in pages of TAUTULLI_PAGE_SIZE.

Why the margin: the server compares days in its own timezone, which the API does not expose.
Windows are planned in UTC days, each query asks for one more day on each side (no timezone
is a day away from UTC), and only rows whose UTC start day is inside the window are kept, so
every row is yielded once whatever the server's timezone.

This module touches no database: `prefetched` runs it in a thread, so the next page is being
fetched and parsed while the caller writes the previous one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from django.conf import settings

from syncing.clients.tautulli import HistoryRow, TautulliClient

FIRST_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 366
T = TypeVar("T")


def page_size() -> int:
    """Rows per request: big, since a page costs as much as its whole window."""
    return settings.TAUTULLI_PAGE_SIZE


def window_rows() -> int:
    """Rows a window should hold; one holding 3x that is re-planned smaller before use."""
    return settings.TAUTULLI_WINDOW_ROWS


def utc_day(epoch: int) -> date:
    return datetime.fromtimestamp(epoch, UTC).date()


def utc_epoch(day: date) -> int:
    """The epoch second at which the UTC `day` starts (ints compare cheaper than days)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


@dataclass(frozen=True, slots=True)
class Batch:
    """One page's rows that belong to its window, and how far the read has come (in days)."""

    rows: list[HistoryRow]
    days_done: int
    days_total: int
    up_to: date


def history_oldest_day(client: TautulliClient) -> date | None:
    """The UTC day of the oldest play (None: no history); one request sorted by start."""
    page = client.history_page(start=0, length=1, order_column="started", order_dir="asc")
    return utc_day(page.rows[0].started) if page.rows else None


def history_batches(client: TautulliClient, *, since: date, until: date) -> Iterator[Batch]:
    """Every play that started on UTC days since..until, page by page, window by window."""
    day, span = since, FIRST_WINDOW_DAYS
    total = (until - since).days + 1
    while day <= until:
        last = min(day + timedelta(days=span - 1), until)
        days = (last - day).days + 1
        start, size = 0, page_size()
        while True:
            page = client.history_page(
                start=start,
                length=size,
                after=day - timedelta(days=1),
                before=last + timedelta(days=1),
            )
            matched = page.records_filtered
            per_day = matched / (days + 2)  # the query spans a day more on each side
            planned = int(window_rows() / per_day) if per_day else span * 4
            if start == 0 and matched > 3 * window_rows() and days > 1:
                span = max(1, min(days - 1, planned))  # too dense: re-plan, nothing kept
                break
            start += page.raw_count
            finished = page.raw_count < size or start >= matched
            lo, hi = utc_epoch(day), utc_epoch(last + timedelta(days=1))
            rows = [r for r in page.rows if lo <= r.started < hi]  # UTC day in day..last
            done = (last - since).days + 1 if finished else (day - since).days
            yield Batch(rows, done, total, last)
            if finished:
                day, span = last + timedelta(days=1), max(1, min(MAX_WINDOW_DAYS, planned))
                break


def _offer(slots: queue.Queue, stop: threading.Event, entry: tuple) -> bool:
    """Put `entry` for the consumer, giving up once it has stopped listening."""
    while not stop.is_set():
        try:
            slots.put(entry, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _produce(items: Iterator, slots: queue.Queue, stop: threading.Event) -> None:
    """The producer thread of `prefetched`: every item, then the end or the error."""
    try:
        for item in items:
            if not _offer(slots, stop, ("item", item)):
                return
        _offer(slots, stop, ("end", None))
    except BaseException as exc:  # handed to the consumer, raised there
        _offer(slots, stop, ("error", exc))


def prefetched(items: Iterator[T], *, depth: int = 1) -> Iterator[T]:
    """Iterate `items` in a background thread, at most `depth` items ahead.

    An exception in the thread is re-raised here, in order; leaving the loop early stops the
    thread before its next item.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    thread = threading.Thread(
        target=_produce, args=(items, slots, stop), name="tautulli-prefetch", daemon=True
    )
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        thread.join(timeout=60)
