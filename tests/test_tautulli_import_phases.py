"""What a Tautulli history import leaves besides plays and statistics: the run's phase
figures (wall and CPU seconds), and on SQLite the connection's page cache as it was."""

from __future__ import annotations

import pytest
from django.db import connection

from syncing.models import Play, SyncRun
from syncing.services.tautulli_sync import tautulli_history_sync
from tests import factories
from tests.tautulli_helpers import target_of, utc

pytestmark = pytest.mark.django_db


def _cache_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        return cursor.fetchone()[0]


def test_full_import_reports_phases_and_gives_the_cache_back(sim):
    plex = factories.plex_server()
    movie = factories.item(server=plex, type="movie", guid="plex://movie/phases")
    tautulli = factories.tautulli_server(plex=plex, base_url=sim.url, api_key=sim.api_key)
    sim.add_play(target=target_of(movie), user="alice", started=utc(3), play_seconds=600)
    before = _cache_size() if connection.vendor == "sqlite" else None

    run = tautulli_history_sync(tautulli=tautulli, full=True)

    assert run.status == SyncRun.Status.SUCCESS, run.error
    assert set(run.details["seconds"]) == set(run.details["cpu_seconds"]) == {"read", "stats"}
    assert Play.objects.get().started == utc(3)
    if before is not None:
        assert _cache_size() == before
