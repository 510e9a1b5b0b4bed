"""PlexClient: GUID parsing, reading recorded PMS XML, paging and errors over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest

from syncing.clients.plex import (
    PlexAuthError,
    PlexClient,
    PlexNotFound,
    PlexResponseError,
    PlexUnreachable,
    external_ids,
    item_from_element,
)
from tests.plex_helpers import SIM_TOKEN, fixture_xml


@pytest.fixture
def client(plex_sim) -> PlexClient:
    return PlexClient(plex_sim.url, SIM_TOKEN, timeout=5)


# --- GUIDs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("guid", "tags", "expected"),
    [
        (
            "plex://movie/5d776b59ad5437001f79c6f8",
            ["imdb://tt0111161", "tmdb://278", "tvdb://190"],
            ("tt0111161", "278", "190"),
        ),
        ("com.plexapp.agents.imdb://tt0123456?lang=en", [], ("tt0123456", None, None)),
        ("com.plexapp.agents.themoviedb://603?lang=en", [], (None, "603", None)),
        ("com.plexapp.agents.thetvdb://12345?lang=en", [], (None, None, "12345")),
        # Season / episode GUIDs of the legacy TVDB agent carry the SHOW's id: not theirs.
        ("com.plexapp.agents.thetvdb://12345/1?lang=en", [], (None, None, None)),
        ("com.plexapp.agents.thetvdb://12345/1/10?lang=en", [], (None, None, None)),
        ("local://42", [], (None, None, None)),
        ("com.plexapp.agents.none://abc?lang=xn", [], (None, None, None)),
        ("", [], (None, None, None)),
        # Tags win over the GUID; unknown or empty tags are ignored.
        ("com.plexapp.agents.imdb://tt0000001?lang=en", ["tmdb://9"], (None, "9", None)),
        ("plex://show/x", ["tvdb://", "anidb://7", "tvdb://81189"], (None, None, "81189")),
    ],
)
def test_external_ids(guid, tags, expected):
    ids = external_ids(guid, tags)
    assert (ids["imdb_id"], ids["tmdb_id"], ids["tvdb_id"]) == expected


# --- reading recorded PMS elements --------------------------------------------------------


def test_reads_a_real_episode_with_nested_media():
    elem = next(fixture_xml("library_tvshows_most_recent.xml").iter("Video"))
    item = item_from_element(elem)
    assert (item.plex_id, item.type, item.title) == (35, "episode", "Episode 5")
    assert (item.parent_plex_id, item.grandparent_plex_id) == (20, 30)
    assert (item.parent_title, item.grandparent_title) == ("Season 1", "TV Show")
    assert (item.season_number, item.episode_number) == (1, 5)
    assert item.file_path == "/storage/tvshows/TV Show/Season 1/Episode 5.mkv"
    assert item.file_size_bytes == 6040228848
    assert item.added_at == datetime(2021, 9, 14, 2, 26, 39, tzinfo=UTC)
    assert item.duration_ms == 3421936
    assert item.guid == "plex://episode/60d5ff1c4a0721002c4e5d75"


def test_flattened_parts_read_as_no_file_like_plexapi_does():
    """children_20.xml puts <Part> beside <Media>: plexapi sees no parts, and so do we."""
    elem = next(fixture_xml("children_20.xml").iter("Video"))
    item = item_from_element(elem)
    assert (item.file_path, item.file_size_bytes) == (None, None)
    assert (item.season_number, item.episode_number, item.grandparent_plex_id) == (1, 1, 30)
    assert item.tvdb_id is None  # legacy episode GUID thetvdb://12345/1/10


def test_reads_real_legacy_movies_and_shows():
    movie = item_from_element(next(fixture_xml("library_movies_all.xml").iter("Video")))
    assert (movie.type, movie.year, movie.imdb_id, movie.section_key) == (
        "movie",
        2000,
        "tt0123456",
        "1",
    )
    assert (movie.file_path, movie.file_size_bytes) == (None, None)  # no Media in this listing
    show = item_from_element(next(fixture_xml("library_tvshows_all.xml").iter("Directory")))
    assert (show.type, show.plex_id, show.tvdb_id, show.year) == ("show", 30, "12345", 2000)


def test_an_element_without_rating_key_is_an_error():
    with pytest.raises(PlexResponseError, match="without a ratingKey"):
        item_from_element(ElementTree.fromstring('<Video type="movie" title="x"/>'))


# --- over HTTP --------------------------------------------------------------------------


def test_server_info_and_sections(client, plex_library):
    info = client.server_info()
    assert info.machine_identifier == plex_library.machine_identifier
    assert info.allow_media_deletion is True
    sections = client.sections()
    assert [(s.key, s.title, s.type, s.locations) for s in sections] == [
        ("1", "Movies", "movie", ("/data/movies",)),
        ("2", "TV Shows", "show", ("/data/tv",)),
    ]


def test_sections_are_read_fresh_each_time(client, plex_sim):
    assert len(client.sections()) == 2
    plex_sim.remove_section("1")
    assert [s.key for s in client.sections()] == ["2"]


def test_pages_cover_everything_once_with_one_request_each(client, plex_sim, plex_library):
    plex_sim.reset_requests()
    pages = list(client.iter_pages("2", "episode", page_size=10))
    assert [len(p.items) for p in pages] == [10, 10, 10, 6]
    assert [p.offset for p in pages] == [0, 10, 20, 30] and {p.total for p in pages} == {36}
    keys = [i.plex_id for p in pages for i in p.items]
    assert keys == [e.rating_key for e in plex_library.episodes()]
    listing = plex_sim.requests_to("/library/sections/2/all")
    assert len(listing) == 4 and plex_sim.request_count == 5  # + GET / on connect
    assert [r.headers["X-Plex-Container-Start"] for r in listing] == ["0", "10", "20", "30"]
    assert {r.query["type"] for r in listing} == {"4"}
    assert client.requests_made == 5


def test_pages_continue_when_the_server_omits_total_size(client, plex_sim):
    """plexapi stops after one page without totalSize; the client reads on to a short page."""
    plex_sim.omit_total_size = True
    pages = list(client.iter_pages("1", "movie", page_size=7))
    assert [len(p.items) for p in pages] == [7, 7, 6]
    assert {p.total for p in pages} == {None}


def test_count_items(client):
    assert client.count_items("2", "season") == 12
    assert client.count_items("1", "movie") == 20


def test_legacy_items_never_cost_an_extra_request(client, plex_sim):
    plex_sim.reset_requests()
    items = [i for p in client.iter_pages("1", "movie", page_size=100) for i in p.items]
    assert any(i.guid.startswith("com.plexapp.agents") and i.imdb_id for i in items)
    assert not plex_sim.requests_to("/library/metadata")


def test_delete_item(client, plex_sim, plex_library):
    season = plex_library.shows[0].seasons[1]
    client.delete_item(season.rating_key)
    assert plex_sim.deleted == [season.rating_key]
    assert plex_sim.requests_to("/library/metadata", method="DELETE")[0].path == (
        f"/library/metadata/{season.rating_key}"
    )
    with pytest.raises(PlexNotFound, match=r"not found \(404\) while deleting item"):
        client.delete_item(season.rating_key)
    assert client.count_items("2", "episode") == 33


def test_delete_refused_when_media_deletion_is_off(client, plex_sim, plex_library):
    plex_sim.allow_media_deletion = False
    movie = plex_library.movies[0]
    with pytest.raises(PlexResponseError) as err:
        client.delete_item(movie.rating_key)
    assert str(err.value) == (
        f"Plex at {plex_sim.url} answered HTTP 403 while deleting item {movie.rating_key}"
    )
    assert plex_sim.deleted == []


def test_wrong_token(plex_sim):
    client = PlexClient(plex_sim.url, "very-secret", timeout=5)
    with pytest.raises(PlexAuthError) as err:
        client.sections()
    assert "very-secret" not in str(err.value) and "very-secret" not in repr(client)
    assert str(err.value) == f"Plex at {plex_sim.url} rejected the token (401) while connecting"


def test_unreachable_and_timeout(plex_sim):
    with pytest.raises(PlexUnreachable, match=r"Cannot reach Plex at http://127\.0\.0\.1:9 "):
        PlexClient("http://127.0.0.1:9", "t", timeout=2).server_info()
    plex_sim.delay_on("/library/sections", 1.0)
    slow = PlexClient(plex_sim.url, SIM_TOKEN, timeout=0.3)
    with pytest.raises(PlexUnreachable, match=r"did not answer within 0.3s while listing"):
        slow.sections()


def test_error_status_and_malformed_xml(client, plex_sim):
    plex_sim.fail_on("/library/sections/1/all", status=503, times=1)
    with pytest.raises(PlexResponseError, match="answered HTTP 503 while reading"):
        list(client.iter_pages("1", "movie"))
    plex_sim.malformed_on("/library/sections/1/all", times=1)
    with pytest.raises(PlexResponseError, match="sent malformed XML while reading"):
        list(client.iter_pages("1", "movie"))
    assert len(list(client.iter_pages("1", "movie"))) == 1  # faults spent: reads fine again
