"""Data contract: constraints hold on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from media.models import MediaItem
from tests import factories

pytestmark = pytest.mark.django_db


def test_media_items_table_has_the_contract_columns():
    with connection.cursor() as cursor:
        columns = {
            c.name for c in connection.introspection.get_table_description(cursor, "media_items")
        }
    expected = {
        "plex_id",
        "title",
        "year",
        "type",
        "tmdb_id",
        "tvdb_id",
        "imdb_id",
        "file_path",
        "file_size_bytes",
        "added_at",
        "total_play_count",
        "last_watched_at",
        "total_watch_time_seconds",
        "tautulli_synced_at",
        "parent_title",
        "grandparent_title",
        "season_number",
        "episode_number",
        "parent_plex_id",
        "grandparent_plex_id",
    }
    assert expected <= columns
    assert "system_config" in connection.introspection.table_names()


@pytest.mark.parametrize("field", ["season_number", "episode_number"])
def test_negative_season_or_episode_is_rejected(plex_server, field):
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.item(server=plex_server, type="episode", **{field: -1})


def test_season_zero_is_allowed(plex_server):
    item = factories.item(server=plex_server, type="season", season_number=0)
    assert MediaItem.objects.get(pk=item.pk).season_number == 0


def test_duplicate_plex_id_on_one_server_is_rejected(plex_server):
    factories.item(server=plex_server, plex_id=42)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.item(server=plex_server, plex_id=42)


def test_same_plex_id_on_two_servers_is_two_items(plex_server):
    other = factories.plex_server()
    factories.item(server=plex_server, plex_id=42)
    factories.item(server=other, plex_id=42)
    assert MediaItem.objects.filter(plex_id=42).count() == 2


def test_statistics_default_to_zero(plex_server):
    item = MediaItem.objects.create(server=plex_server, plex_id=1, title="X", type="movie")
    item.refresh_from_db()
    assert (item.total_play_count, item.total_watch_time_seconds) == (0, 0)
    assert item.human_size == "—"
