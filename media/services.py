"""Writes to the library mirror's own settings (system_config)."""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from media.models import SystemConfig

logger = logging.getLogger(__name__)

STORAGE_CAPACITY_KEY = "storage_capacity_gb"
MAX_CAPACITY_GB = 1e9  # about an exabyte: any real disk, and its bytes stay below 2**63


@dataclass(frozen=True)
class StorageCapacity:
    total_gb: float | None
    source: str  # "manual" | "disk" | "arr" (Radarr/Sonarr disk space) | "unset"
    updated_at: datetime | None
    path: str = ""


class _ConfigMemo:
    """system_config as read once in this request (None: not read yet)."""

    values: dict | None = None


_memo: ContextVar[_ConfigMemo | None] = ContextVar("system_config_memo", default=None)


@contextmanager
def config_memo() -> Iterator[None]:
    """Within the block (a web request: media.middleware), the first config_get reads every
    system_config row in one query and later ones read that; config_set drops it. A page
    reads several keys (deletion settings, capacity, ignored accounts) on every view."""
    token = _memo.set(_ConfigMemo())
    try:
        yield
    finally:
        _memo.reset(token)


def config_get(key: str, default=None):
    memo = _memo.get()
    if memo is None:
        row = SystemConfig.objects.filter(key=key).values_list("value", flat=True).first()
    else:
        if memo.values is None:
            memo.values = dict(SystemConfig.objects.values_list("key", "value"))
        row = copy.deepcopy(memo.values.get(key))  # callers may change what they read
    return default if row is None else row


def config_set(key: str, value) -> SystemConfig:
    obj, _ = SystemConfig.objects.update_or_create(key=key, defaults={"value": value})
    if (memo := _memo.get()) is not None:
        memo.values = None  # read again from the database (which may roll this back)
    return obj


def storage_capacity_get() -> StorageCapacity:
    """The configured disk capacity (`{"total_gb": …, "source": …, "updated_at": …}`).

    A stored value of the wrong shape (edited by hand) reads as "not set", with a warning,
    so every page still loads and the settings page can fix it.
    """
    value = config_get(STORAGE_CAPACITY_KEY)
    if value is None:
        return StorageCapacity(None, "unset", None)
    if not isinstance(value, dict) or capacity_gb_clean(value.get("total_gb")) is None:
        logger.warning("system_config %s is unusable; treated as not set", STORAGE_CAPACITY_KEY)
        return StorageCapacity(None, "unset", None)
    source, path = value.get("source"), value.get("path")
    return StorageCapacity(
        total_gb=capacity_gb_clean(value["total_gb"]),
        source=source if source in ("manual", "disk", "arr") else "manual",
        updated_at=_datetime_or_none(value.get("updated_at")),
        path=path if isinstance(path, str) else "",
    )


def _datetime_or_none(value) -> datetime | None:
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None


def capacity_gb_clean(value) -> float | None:
    """A capacity in GB when it is a finite number in (0, MAX_CAPACITY_GB], else None."""
    if isinstance(value, bool):
        return None
    try:
        total = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return total if math.isfinite(total) and 0 < total <= MAX_CAPACITY_GB else None


def storage_capacity_set(
    *, total_gb: float, source: str = "manual", path: str = ""
) -> StorageCapacity:
    """Store the capacity; rejects non-positive, infinite or absurd values (pages divide by
    it, multiply it into bytes, and system_config holds JSON, which has no Infinity)."""
    total = capacity_gb_clean(total_gb)
    if total is None:
        raise ValidationError(
            f"Capacity must be a number of GB greater than 0 and at most {MAX_CAPACITY_GB:,.0f}."
        )
    value = {"total_gb": total, "source": source, "updated_at": timezone.now().isoformat()}
    if path:
        value["path"] = path
    config_set(STORAGE_CAPACITY_KEY, value)
    return storage_capacity_get()
