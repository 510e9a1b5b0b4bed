"""Writes to the library mirror's own settings (system_config)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from media.models import SystemConfig

STORAGE_CAPACITY_KEY = "storage_capacity_gb"


@dataclass(frozen=True)
class StorageCapacity:
    total_gb: float | None
    source: str  # "manual" | "disk" | "arr" (Radarr/Sonarr disk space) | "unset"
    updated_at: datetime | None
    path: str = ""


def config_get(key: str, default=None):
    row = SystemConfig.objects.filter(key=key).values_list("value", flat=True).first()
    return default if row is None else row


def config_set(key: str, value) -> SystemConfig:
    obj, _ = SystemConfig.objects.update_or_create(key=key, defaults={"value": value})
    return obj


def storage_capacity_get() -> StorageCapacity:
    """The configured disk capacity (`{"total_gb": …, "source": …, "updated_at": …}`)."""
    value = config_get(STORAGE_CAPACITY_KEY) or {}
    total = value.get("total_gb")
    updated = value.get("updated_at")
    return StorageCapacity(
        total_gb=float(total) if total is not None else None,
        source=value.get("source", "unset") if total is not None else "unset",
        updated_at=parse_datetime(updated) if updated else None,
        path=value.get("path", ""),
    )


def storage_capacity_set(
    *, total_gb: float, source: str = "manual", path: str = ""
) -> StorageCapacity:
    """Store the capacity; rejects non-positive values so pages never divide by zero."""
    try:
        total = float(total_gb)
    except (TypeError, ValueError):
        raise ValidationError("Capacity must be a number of GB.") from None
    if not total > 0:
        raise ValidationError("Capacity must be greater than 0 GB.")
    value = {"total_gb": total, "source": source, "updated_at": timezone.now().isoformat()}
    if path:
        value["path"] = path
    config_set(STORAGE_CAPACITY_KEY, value)
    return storage_capacity_get()
