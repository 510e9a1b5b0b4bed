"""The capacity source "Radarr/Sonarr disk space": `/api/v3/diskspace` + `/api/v3/rootfolder`.

Each sync_arr stores what its instance reports (system_config `arr_diskspace`, one entry per
instance). Only the filesystems holding a root folder count, each once across instances:
an HD and a 4K Radarr, or Radarr and Sonarr, on one disk must not double its size. Disk
paths are compared as Plex sees them (after the instance's path mappings), so containers
that mount the same disk at different paths still agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from media.formatting import GB
from media.services import config_get, config_set, storage_capacity_get, storage_capacity_set
from syncing.clients.arr import ArrDisk
from syncing.models import ArrServer

ARR_DISKS_KEY = "arr_diskspace"
SOURCE = "arr"


@dataclass(frozen=True)
class ArrCapacity:
    total_bytes: int
    free_bytes: int
    disks: int


def _holding(disks: list[ArrDisk], root: str) -> ArrDisk | None:
    root = root.rstrip("/") + "/"
    fits = [d for d in disks if root.startswith(d.path.rstrip("/") + "/")]
    return max(fits, key=lambda d: len(d.path), default=None)


def arr_diskspace_store(*, server: ArrServer, disks: list[ArrDisk], roots: list[str]) -> bool:
    """Keep this instance's root-folder disks; refresh the capacity if it comes from here.
    Returns whether that capacity changed (the dashboard's storage snapshot then does)."""
    used = {}
    for root in roots:
        disk = _holding(disks, root)
        if disk is not None:
            path = server.plex_path(disk.path) or disk.path
            used[path] = {"total": disk.total_bytes, "free": disk.free_bytes}
    value = config_get(ARR_DISKS_KEY) or {}
    value[str(server.pk)] = {"disks": used, "at": timezone.now().isoformat()}
    config_set(ARR_DISKS_KEY, value)
    capacity, stored = arr_capacity_get(), storage_capacity_get()
    if capacity is None or stored.source != SOURCE:
        return False
    now = storage_capacity_set(total_gb=capacity.total_bytes / GB, source=SOURCE)
    return now.total_gb != stored.total_gb


def arr_capacity_get() -> ArrCapacity | None:
    """Total and free bytes over the distinct disks of enabled instances (None: nothing yet)."""
    value = config_get(ARR_DISKS_KEY) or {}
    enabled = {
        str(pk) for pk in ArrServer.objects.filter(enabled=True).values_list("pk", flat=True)
    }
    seen: dict[str, dict] = {}
    for pk, entry in sorted(value.items()):
        if pk in enabled:
            for path, disk in entry.get("disks", {}).items():
                seen.setdefault(path, disk)
    if not seen:
        return None
    total = sum(int(d["total"]) for d in seen.values())
    return ArrCapacity(total, sum(int(d["free"]) for d in seen.values()), len(seen))
