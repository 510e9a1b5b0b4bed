"""Targeted refresh of items named by Plex's notifications, and the client calls under it."""

from __future__ import annotations

import time

import pytest

from media.models import MediaItem
from syncing.clients.plex import PlexClient
from syncing.services.plex_refresh import plex_items_refresh
from syncing.services.plex_sync import plex_library_sync
from tests.conftest_plex import SIM_TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(sim_server):
    plex_library_sync(server=sim_server, trigger="test")
    return sim_server


def client_for(sim) -> PlexClient:
    return PlexClient(sim.url, SIM_TOKEN)


def test_iter_changed_lists_only_changed_items_with_one_request_per_listing(plex_sim, plex_library):
    since = int(time.time()) - 1
    episode = next(plex_library.episodes())
    plex_sim.update_item(episode.rating_key, size=5)
    added = plex_sim.add_episodes(plex_library.shows[2].seasons[1].rating_key, 3)
    client = client_for(plex_sim)
    client.server_info()
    before, served = client.requests_made, plex_sim.items_served
    pages = list(client.iter_changed("2", "episode", since=since))
    keys = sorted(i.plex_id for p in pages for i in p.items)
    assert keys == sorted([episode.rating_key, *(e.rating_key for e in added)])
    assert client.requests_made - before == 2  # updatedAt, then addedAt
    assert plex_sim.items_served - served == 4 + 3  # updated+added, then added again
    assert [
        i.file_size_bytes for p in pages for i in p.items if i.plex_id == episode.rating_key
    ] == [5]


def test_iter_changed_stops_at_the_first_older_item_when_the_filter_is_ignored(
    plex_sim, plex_library
):
    since = int(time.time()) - 1
    plex_sim.update_item(plex_library.movies[3].rating_key, title="Fresh")
    plex_sim.ignore_date_filters = True
    client = client_for(plex_sim)
    pages = list(client.iter_changed("1", "movie", since=since, page_size=5))
    assert [i.title for p in pages for i in p.items] == ["Fresh"]
    assert len(plex_sim.requests_to("/library/sections/1/all")) == 2  # one page per listing


def test_refresh_stores_new_and_changed_items_and_a_show_brings_its_children(
    synced, plex_sim, plex_library
):
    movie = plex_sim.add_movie("Arrived Today", size=7_000)
    plex_sim.update_item(plex_library.movies[0].rating_key, size=11)
    show = plex_library.shows[1]
    new_episodes = plex_sim.add_episodes(show.seasons[0].rating_key, 2)
    plex_sim.reset_requests()
    result = plex_items_refresh(
        server=synced,
        client=client_for(plex_sim),
        refresh=[movie.rating_key, plex_library.movies[0].rating_key, show.rating_key],
        delete=[],
    )
    assert (result.created, result.gone) == (3, 0)
    assert MediaItem.objects.get(server=synced, plex_id=movie.rating_key).file_size_bytes == 7_000
    assert MediaItem.objects.get(plex_id=plex_library.movies[0].rating_key).file_size_bytes == 11
    for episode in new_episodes:
        assert (
            MediaItem.objects.get(plex_id=episode.rating_key).grandparent_plex_id == show.rating_key
        )
    # GET /, one details request for the three keys, the show's children and allLeaves
    assert len(plex_sim.requests) == 4


def test_delete_is_marked_gone_only_when_plex_confirms_it(synced, plex_sim, plex_library):
    show = plex_library.shows[0]
    kept = plex_library.movies[1]
    plex_sim.remove_item(show.rating_key)
    result = plex_items_refresh(
        server=synced,
        client=client_for(plex_sim),
        refresh=[],
        delete=[show.rating_key, kept.rating_key],
    )
    gone = MediaItem.objects.filter(server=synced, removed_at__isnull=False)
    assert result.gone_keys == [show.rating_key]
    assert result.gone == 1 + 2 + 6 == gone.count()  # the show, its seasons and episodes
    assert not MediaItem.objects.get(plex_id=kept.rating_key).removed_at
