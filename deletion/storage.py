"""The storage card: capacity, used, free, and what the approved deletions would free."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Sum

from deletion.models import DeletionRequest
from media.formatting import GB, human_size_of
from media.models import MediaItem
from media.services import storage_capacity_get


@dataclass(frozen=True)
class StorageSummary:
    capacity_bytes: int | None
    used_bytes: int
    approved_bytes: int
    source: str

    @property
    def free_bytes(self) -> int | None:
        return None if self.capacity_bytes is None else self.capacity_bytes - self.used_bytes

    @property
    def used_percent(self) -> int | None:
        if not self.capacity_bytes:
            return None
        return max(0, min(100, round(100 * self.used_bytes / self.capacity_bytes)))

    @property
    def projected_percent(self) -> int | None:
        if not self.capacity_bytes:
            return None
        after = max(0, self.used_bytes - self.approved_bytes)
        return max(0, min(100, round(100 * after / self.capacity_bytes)))

    used_human = human_size_of("used_bytes")
    capacity_human = human_size_of("capacity_bytes")
    free_human = human_size_of("free_bytes")
    approved_human = human_size_of("approved_bytes")


def _capacity_bytes() -> tuple[int | None, str]:
    capacity = storage_capacity_get()
    if capacity.source == "disk" and capacity.path:
        try:
            return shutil.disk_usage(capacity.path).total, "disk"
        except OSError:
            pass  # path not mounted right now: fall back to the stored figure
    if capacity.total_gb is None:
        return None, "unset"
    return int(capacity.total_gb * GB), capacity.source


USED_CACHE_KEY = "smartplex:storage-used-bytes"
USED_CACHE_SECONDS = 60


def used_bytes_get() -> int:
    """Sum of live movie + episode sizes. It is on every page and costs a scan of 100k
    index entries (10-30 ms), while it only changes with a sync or a deletion: cached for
    a minute, and dropped by deletion_execute when it marks items gone."""
    used = cache.get(USED_CACHE_KEY)
    if used is None:
        used = 0
        for kind in (MediaItem.MediaType.MOVIE, MediaItem.MediaType.EPISODE):
            # One sum per type: each is answered from a covering index (MediaItem cand_item_idx).
            live = MediaItem.objects.filter(type=kind, removed_at__isnull=True)
            used += live.aggregate(total=Sum("file_size_bytes"))["total"] or 0
        cache.set(USED_CACHE_KEY, used, USED_CACHE_SECONDS)
    return used


def storage_summary_get() -> StorageSummary:
    """Used = live movies + episodes; approved = sizes at approval of open requests."""
    capacity, source = _capacity_bytes()
    used = used_bytes_get()
    approved = DeletionRequest.objects.filter(status__in=DeletionRequest.OPEN).aggregate(
        total=Sum("size_bytes")
    )["total"]
    return StorageSummary(capacity, used, approved or 0, source)
