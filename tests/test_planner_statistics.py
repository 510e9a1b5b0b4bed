"""Bulk syncs leave the tables they filled analyzed (media.statistics): the planners'
statistics count the new rows. SQLite has none otherwise, and without them it answered
the ignored accounts' per-episode lookups through the wrong index (minutes, not a second).
"""

from __future__ import annotations

import pytest
from django.db import connection

from media.models import MediaItem
from syncing.models import SyncRun, UserItemStats
from syncing.services import tautulli_sync
from syncing.services.plex_sync import plex_library_sync
from tests import factories
from tests.tautulli_helpers import target_of, utc

pytestmark = pytest.mark.django_db

PLEX_ITEMS = 20 + 6 + 12 + 36  # the `plex_library` fixture: movies, shows, seasons, episodes


def _sqlite_stat1_exists(cursor) -> bool:
    cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
    return cursor.fetchone() is not None


def _statistics_forget() -> None:
    """SQLite: drop what earlier tests' syncs recorded (PostgreSQL's are not transactional,
    so its checks below count rows no other test makes)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            if _sqlite_stat1_exists(cursor):
                cursor.execute("DELETE FROM sqlite_stat1")


def _rows_estimated(model) -> int | None:
    """How many rows the planner's statistics say the table has (None: never analyzed)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            estimate = cursor.fetchone()[0]
            return None if estimate < 0 else int(estimate)
        if not _sqlite_stat1_exists(cursor):
            return None
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        counts = [int(stat.split()[0]) for (stat,) in cursor.fetchall()]
        return max(counts, default=None)


def test_a_plex_sync_that_created_items_leaves_media_items_analyzed(sim_server):
    _statistics_forget()

    run = plex_library_sync(server=sim_server, trigger="test")

    assert run.status == SyncRun.Status.SUCCESS, run.error
    assert MediaItem.objects.count() == PLEX_ITEMS
    assert _rows_estimated(MediaItem) == PLEX_ITEMS


@pytest.fixture
def tautulli_sim_server(sim):
    return factories.tautulli_server(
        plex=factories.plex_server(), base_url=sim.url, api_key=sim.api_key
    )


@pytest.fixture
def seven_viewers(sim, tautulli_sim_server):
    """Seven accounts played one movie: seven rollup rows."""
    movie = factories.item(server=tautulli_sim_server.plex_server, type="movie")
    for n in range(7):
        sim.add_play(target=target_of(movie), user=f"viewer{n}", started=utc(n + 1))
    return tautulli_sim_server


def test_a_bulk_tautulli_import_leaves_the_rollup_analyzed(seven_viewers, monkeypatch):
    monkeypatch.setattr(tautulli_sync, "ANALYZE_AFTER_ROWS", 5)  # 7 rows count as bulk
    _statistics_forget()

    run = tautulli_sync.tautulli_history_sync(tautulli=seven_viewers)

    assert run.status == SyncRun.Status.SUCCESS, run.error
    assert UserItemStats.objects.count() == 7
    assert _rows_estimated(UserItemStats) == 7


def test_a_small_import_leaves_the_statistics_alone(seven_viewers):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's estimates outlive a test (not transactional)")
    _statistics_forget()

    run = tautulli_sync.tautulli_history_sync(tautulli=seven_viewers)

    assert run.status == SyncRun.Status.SUCCESS, run.error
    assert _rows_estimated(UserItemStats) is None
