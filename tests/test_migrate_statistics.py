"""`migrate` re-analyzes an SQLite database that was analyzed before: a migration that
rebuilds a table (SQLite alters by copying) drops that table's planner statistics."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def _analyzed_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tbl FROM sqlite_stat1")
        return {row[0] for row in cursor.fetchall()}


def test_a_migration_that_rebuilds_tables_leaves_them_analyzed():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite keeps no statistics on a rebuilt table; PostgreSQL's autovacuum does")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1")  # as a rebuild leaves its tables
    assert _analyzed_tables() == set()

    # syncing 0013 alters the plays' foreign key: SQLite copies the table, both ways.
    call_command("migrate", "syncing", "0012", stdout=StringIO(), verbosity=0)
    call_command("migrate", stdout=StringIO(), verbosity=0)

    assert "django_migrations" in _analyzed_tables()
