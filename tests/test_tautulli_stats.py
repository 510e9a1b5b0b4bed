"""Item statistics read through the per-user rollup, service by service."""

from __future__ import annotations

import pytest

from syncing.clients.tautulli import HistoryRow
from syncing.services.tautulli_plays import plays_upsert
from syncing.services.tautulli_rollups import rollups_rebuild
from syncing.services.tautulli_stats import item_stats_recompute
from tests import factories
from tests.tautulli_helpers import stats, utc

pytestmark = pytest.mark.django_db


def _play(row_id: int, movie, user_id: int | None, days_ago: int, seconds: int) -> HistoryRow:
    started = int(utc(days_ago).timestamp())
    return HistoryRow(
        row_id, row_id, movie.plex_id, None, None, "movie", user_id, "", started,
        started + seconds, seconds, 0, 100, 1.0, movie.guid, movie.title,
    )  # fmt: skip


def test_plays_without_a_user_still_count_for_the_item():
    plex = factories.plex_server()
    tautulli = factories.tautulli_server(plex=plex)
    movie = factories.item(server=plex, type="movie", guid="plex://movie/no-user")
    rows = [_play(1, movie, 11, 5, 600), _play(2, movie, None, 2, 900), _play(3, movie, 12, 9, 60)]
    plays_upsert(tautulli_id=tautulli.pk, rows=rows)

    rollups_rebuild(tautulli=tautulli)
    item_stats_recompute(tautulli_id=tautulli.pk, server_id=plex.pk)

    assert stats(movie) == [(3, 1560, utc(2))]  # the user-less play is the newest one
