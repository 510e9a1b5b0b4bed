"""Writing Tautulli history rows into tautulli_plays, keyed on (tautulli, row_id)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.db import connection, models, transaction

from syncing.clients.tautulli import HistoryRow
from syncing.models import Play, TautulliServer
from syncing.services.pg_copy import pg_copy_upsert

BULK_CACHE_KIB = 65_536  # SQLite page cache during a history import (default: 2,000 KiB)

_PLAY_FIELDS = [
    "reference_id", "plex_id", "parent_plex_id", "grandparent_plex_id", "media_type",
    "user_id", "user", "started", "stopped", "play_duration", "paused_counter",
    "percent_complete", "watched_status", "guid", "title",
]  # fmt: skip


def _names() -> list[str]:
    return ["tautulli", "row_id", *_PLAY_FIELDS]


_EPOCHS = ("started", "stopped")  # epoch seconds on the wire, DateTimeFields here


def _upsert_sql(*, epochs_in_sql: bool) -> str:
    """INSERT … ON CONFLICT (tautulli_id, row_id) DO UPDATE, one row (SQLite's executemany);
    with `epochs_in_sql` the datetimes are formatted by SQLite itself (see _epoch_adapter)."""
    q = connection.ops.quote_name  # "user" is a reserved word in PostgreSQL
    columns = [q(Play._meta.get_field(n).column) for n in _names()]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    marks = [
        "datetime(%s, 'unixepoch')" if epochs_in_sql and name in _EPOCHS else "%s"
        for name in _names()
    ]
    return (
        f"INSERT INTO {q(Play._meta.db_table)} ({', '.join(columns)}) "
        f"VALUES ({', '.join(marks)}) "
        f"ON CONFLICT ({columns[0]}, {columns[1]}) DO UPDATE SET {updates}"
    )


def _pg_upsert_spec() -> dict:
    """pg_copy_upsert's arguments for tautulli_plays (PostgreSQL): the datetimes travel as
    epoch seconds (bigint) and become timestamps in the INSERT … SELECT (to_timestamp)."""
    q = connection.ops.quote_name
    fields = [Play._meta.get_field(n) for n in _names()]
    columns = [q(f.column) for f in fields]
    epochs = {q(Play._meta.get_field(n).column) for n in _EPOCHS}
    return {
        "table": q(Play._meta.db_table),
        "staging": "tautulli_plays_page",
        "columns": columns,
        "types": [
            "bigint" if c in epochs else f.db_type(connection)
            for c, f in zip(columns, fields, strict=True)
        ],
        "conflict": columns[:2],
        "updates": columns[2:],
        "select": [f"to_timestamp({c})" if c in epochs else c for c in columns],
    }


def _same(value: object) -> object:
    return value


def _epoch_adapter() -> Callable[[int | None], object] | None:
    """epoch seconds -> the value the database stores for a DateTimeField; None: the
    database converts them in the statement.

    SQLite keeps naive UTC text, which `datetime(?, 'unixepoch')` writes in the same form
    Django does ("YYYY-MM-DD HH:MM:SS"), and PostgreSQL's `to_timestamp` gives the instant:
    both in C (SQLite's inside the step that runs without the GIL) instead of two datetime
    conversions a row in Python (~2 µs, a tenth of the write). A SQLite connection in
    another timezone gets the generic adapter's value.
    """
    if connection.vendor == "postgresql" or str(connection.timezone) == "UTC":
        return None
    adapt = connection.ops.adapt_datetimefield_value
    return lambda epoch: None if epoch is None else adapt(datetime.fromtimestamp(epoch, UTC))


def plays_upsert(*, tautulli_id: int, rows: list[HistoryRow]) -> None:
    """Insert or update plays on (tautulli, row_id), in as few statements as the backend likes.

    Raw `INSERT … ON CONFLICT DO UPDATE` (same syntax on SQLite and PostgreSQL) instead of
    bulk_create(update_conflicts=True): Django's per-field SQL compilation cost ~80 µs a
    row, four times the cost of fetching and parsing it. SQLite runs one prepared statement
    per row (executemany, cheapest there); PostgreSQL streams the page with COPY into a temp
    table and upserts it in one INSERT … SELECT (a statement per row cost 150 µs; a VALUES
    list spent its time in psycopg's placeholder parsing; column arrays through `unnest`
    spent ~35 s of a 1M-row import rendering the arrays as text).
    """
    if not rows:
        return
    adapter = _epoch_adapter()
    when = adapter or _same
    params = [
        (
            tautulli_id, r.row_id, r.reference_id, r.plex_id, r.parent_plex_id,
            r.grandparent_plex_id, r.media_type[:20], r.user_id, r.user[:200], when(r.started),
            when(r.stopped), r.play_duration, r.paused_counter, r.percent_complete,
            r.watched_status, r.guid[:300], r.title[:500],
        )
        for r in {r.row_id: r for r in rows}.values()  # one row_id twice would fail in PG
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        referenced_rows_held(cursor, (TautulliServer, tautulli_id))
        if connection.vendor == "postgresql":
            pg_copy_upsert(cursor, rows=params, **_pg_upsert_spec())
        else:
            cursor.executemany(_upsert_sql(epochs_in_sql=adapter is None), params)


def referenced_rows_held(cursor, *rows: tuple[type[models.Model], int]) -> None:
    """Check once per transaction what the plays' and rollups' foreign keys would check per
    row (models.NO_FK_CHECK): each (model, pk) row exists, and on PostgreSQL stays until
    commit (FOR KEY SHARE, the lock a foreign-key check takes). A record deleted during
    its sync fails the run instead of leaving rows that point at nothing.
    """
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    for model, pk in rows:
        qn, meta = connection.ops.quote_name, model._meta
        cursor.execute(
            f"SELECT 1 FROM {qn(meta.db_table)} WHERE {qn(meta.pk.column)} = %s{lock}", [pk]
        )
        if cursor.fetchone() is None:
            raise model.DoesNotExist(f"{model._meta.verbose_name} {pk} was deleted meanwhile")


@contextmanager
def bulk_cache() -> Iterator[None]:
    """SQLite: a 64 MB page cache for the connection while a history import runs.

    Every play goes into four indexes of a table of a million rows; with SQLite's default
    2 MB cache their pages were read back through the OS for each row (system time was
    half of the write's CPU: ~13 µs a row, ~7 with this cache). The old size is restored
    after, so a long-lived worker connection gives the memory back. Other backends: no-op.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")
