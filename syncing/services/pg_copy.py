"""PostgreSQL bulk upsert through COPY: rows stream into a temp table, then one INSERT … SELECT.

Why: a page sent as one array parameter per column (`unnest`) made psycopg render every
array as text in Python (profiled: about half of a 122k-item Plex sync and ~35 s of a
1M-row Tautulli import). COPY's row formatting runs in psycopg's C extension, and the
INSERT … SELECT … ON CONFLICT that follows is the same statement the server ran before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def pg_copy_upsert(
    cursor,
    *,
    table: str,
    staging: str,
    columns: Sequence[str],
    types: Sequence[str],
    conflict: Sequence[str],
    updates: Sequence[str],
    rows: Iterable[Sequence],
    update_where: str = "",
    select: Sequence[str] | None = None,
) -> None:
    """Upsert `rows` (values in `columns` order) into `table`, keyed on `conflict`.

    Names must already be quoted. `staging` is a session temp table made on first use and
    emptied after each call, so it is safe inside an outer transaction (tests) as well.
    `update_where` (optional) limits which conflicting rows are updated; `select` (optional)
    reads each column from the staging table through an expression (a conversion done by
    the server instead of in Python for every row).
    """
    cols = ", ".join(columns)
    defs = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} ({defs})")
    with cursor.copy(f"COPY {staging} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
    where = f" WHERE {update_where}" if update_where else ""
    cursor.execute(
        f"INSERT INTO {table} ({cols}) SELECT {', '.join(select or columns)} FROM {staging} "
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}{where}"
    )
    cursor.execute(f"TRUNCATE {staging}")
