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
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone():
            return set()
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


def test_migrate_analyzes_a_library_that_was_never_analyzed():
    """An install from before the syncs analyzed (media.statistics) holds rows, no statistics."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's autovacuum analyzes on its own")
    from tests import factories

    factories.item(server=factories.plex_server(), type="movie")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")

    call_command("migrate", "syncing", "0012", stdout=StringIO(), verbosity=0)
    call_command("migrate", stdout=StringIO(), verbosity=0)

    assert "media_items" in _analyzed_tables()
