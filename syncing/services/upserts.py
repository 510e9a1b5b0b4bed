"""Staging rows for bulk writes: one rule for "new, changed or unchanged" shared by the syncs
that mirror a small list (Seerr requests, Tautulli users) with bulk_create / bulk_update."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def row_stage(
    *,
    existing: dict[Any, M],
    key: Any,
    values: dict[str, Any],
    make: Callable[..., M],
    new: list[M],
    changed: list[M],
) -> None:
    """Stage one listed row: not stored yet → `make(**values)` into `new`; stored with other
    values → updated in place into `changed`. It leaves `existing`, so what remains there
    at the end is what the source no longer lists."""
    stored = existing.pop(key, None)
    if stored is None:
        new.append(make(**values))
    elif any(getattr(stored, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(stored, name, value)
        changed.append(stored)
