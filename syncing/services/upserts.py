"""Bulk writes shared by the syncs: staging a small list's rows for bulk_create / bulk_update
(Seerr requests, Tautulli users), and the SQLite path of the raw-SQL upserts (Plex items,
Radarr/Sonarr rows; PostgreSQL goes through `pg_copy_upsert`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


@dataclass
class WriteCounts:
    """Rows a sync created and updated: the start of every sync's result."""

    created: int = 0
    updated: int = 0


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


def values_upsert(cursor, *, sql: str, rows: Sequence[Sequence], chunk: int = 500) -> None:
    """Run `sql` (an INSERT … ON CONFLICT whose `{rows}` is where the VALUES list goes) over
    `rows`, `chunk` rows a statement: a few statements, never one per row."""
    if not rows:
        return
    marks = f"({', '.join(['%s'] * len(rows[0]))})"
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        values = f"VALUES {', '.join([marks] * len(part))}"
        cursor.execute(sql.format(rows=values), [v for row in part for v in row])
