"""Writes of the dashboard's pre-aggregates: a storage snapshot and plays per week, taken
after every sync (dashboard.signals), kept compact.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from dashboard.models import PlayWeek, StorageSnapshot
from deletion.history import history_state_get
from deletion.planner import reclaimable_get, top_candidates_get
from deletion.storage import USED_CACHE_KEY, storage_summary_get
from media.models import MediaItem
from syncing.models import Play, TautulliServer

logger = logging.getLogger(__name__)

HOURLY_DAYS = 30  # snapshots older than this keep one per day
PLAY_WEEKS = 53  # a year, plus the week in progress


def storage_snapshot_take(*, now: datetime | None = None) -> StorageSnapshot:
    """Record used space, capacity, reclaimable space per level and the top candidates.

    One row per clock hour: a second sync within the hour refreshes that hour's row.
    """
    now = now or timezone.now()
    cache.delete(USED_CACHE_KEY)  # a sync just changed the library: never a stale figure
    storage = storage_summary_get()
    history = history_state_get()
    reclaim = reclaimable_get(history=history)
    values = {
        "taken_at": now,
        "used_bytes": storage.used_bytes,
        "capacity_bytes": storage.capacity_bytes,
        **{f"reclaimable_{level}": size for level, (_, size) in reclaim.items()},
        "top_candidates": top_candidates_get(history=history),
    }
    hour = now.replace(minute=0, second=0, microsecond=0)
    with transaction.atomic():
        same_hour = StorageSnapshot.objects.filter(
            taken_at__gte=hour, taken_at__lt=hour + timedelta(hours=1)
        )
        snapshot = same_hour.order_by("-taken_at").first() or StorageSnapshot()
        for name, value in values.items():
            setattr(snapshot, name, value)
        snapshot.save()
        same_hour.exclude(pk=snapshot.pk).delete()
    snapshots_thin(now=now)
    return snapshot


def snapshots_thin(*, now: datetime | None = None) -> int:
    """Past HOURLY_DAYS, keep the last snapshot of each (UTC) day; returns how many went."""
    now = now or timezone.now()
    old = StorageSnapshot.objects.filter(taken_at__lt=now - timedelta(days=HOURLY_DAYS)).order_by(
        "taken_at"
    )
    last_of_day: dict[date, int] = {}
    rows = list(old.values_list("pk", "taken_at"))
    for pk, taken_at in rows:
        last_of_day[taken_at.astimezone(UTC).date()] = pk
    keep = set(last_of_day.values())
    drop = [pk for pk, _ in rows if pk not in keep]
    for start in range(0, len(drop), 500):
        StorageSnapshot.objects.filter(pk__in=drop[start : start + 500]).delete()
    return len(drop)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def play_weeks_refresh(*, now: datetime | None = None) -> list[PlayWeek]:
    """Count the plays of the last PLAY_WEEKS weeks: one indexed range COUNT per week and
    Tautulli server (play_started_idx), cheaper than grouping half a million rows."""
    now = now or timezone.now()
    first = week_start(now.astimezone(UTC).date()) - timedelta(weeks=PLAY_WEEKS - 1)
    starts = [first + timedelta(weeks=n) for n in range(PLAY_WEEKS)]
    counts: Counter[date] = Counter()
    for tautulli_id in TautulliServer.objects.values_list("pk", flat=True):
        for start in starts:
            begin = datetime.combine(start, time.min, tzinfo=UTC)
            counts[start] += Play.objects.filter(
                tautulli_id=tautulli_id, started__gte=begin, started__lt=begin + timedelta(weeks=1)
            ).count()
    rows = [PlayWeek(week_start=start, plays=counts[start]) for start in starts]
    with transaction.atomic():
        PlayWeek.objects.filter(week_start__lt=first).delete()
        PlayWeek.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["week_start"], update_fields=["plays"]
        )
    return rows


def dashboard_refresh(*, now: datetime | None = None) -> StorageSnapshot:
    """Everything the dashboard pre-aggregates; called after each successful sync."""
    play_weeks_refresh(now=now)
    return storage_snapshot_take(now=now)


def snapshots_backfill(*, days: int = 180, now: datetime | None = None) -> int:
    """Estimate the storage history of the last `days` from when the present items arrived
    (used on day D = sizes of live items added by D), one snapshot per day that has none,
    so the chart and the fill date mean something on a first start. Returns how many."""
    now = now or timezone.now()
    capacity = storage_summary_get().capacity_bytes
    leaves = MediaItem.objects.filter(
        type__in=[MediaItem.MediaType.MOVIE, MediaItem.MediaType.EPISODE],
        removed_at__isnull=True,
        added_at__isnull=False,
    )
    arrivals = sorted(leaves.values_list("added_at", "file_size_bytes"), key=lambda r: r[0])
    taken = {
        at.astimezone(UTC).date()
        for at in StorageSnapshot.objects.filter(
            taken_at__gte=now - timedelta(days=days + 1)
        ).values_list("taken_at", flat=True)
    }
    rows, used, n = [], 0, 0
    for back in range(days, 0, -1):
        at = now - timedelta(days=back)
        while n < len(arrivals) and arrivals[n][0] <= at:
            used, n = used + (arrivals[n][1] or 0), n + 1
        if at.astimezone(UTC).date() not in taken:
            rows.append(StorageSnapshot(taken_at=at, used_bytes=used, capacity_bytes=capacity))
    StorageSnapshot.objects.bulk_create(rows, batch_size=500)
    return len(rows)
