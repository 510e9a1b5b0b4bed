"""The Plex simulator's date filters, runtime changes and notification websocket.

Filters follow what plexapi sends (`episode.updatedAt>>=EPOCH`, `sort=…:desc`) and what
PMS answers (strictly after; 400 on a bad value); notifications are read by plexapi's
own AlertListener, so their shape is the one a real server's listener consumes.
"""

from __future__ import annotations

import time
from xml.etree import ElementTree

import requests
from plexapi.server import PlexServer

from simulators.websocket import accept_key
from tests.conftest_plex import SIM_TOKEN


def listing(sim, path: str, **params) -> ElementTree.Element:
    response = requests.get(sim.url + path, params=params, headers={"X-Plex-Token": SIM_TOKEN})
    assert response.status_code == 200, response.status_code
    return ElementTree.fromstring(response.content)


def keys(root: ElementTree.Element) -> list[int]:
    return [int(e.attrib["ratingKey"]) for e in root]


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_updated_and_added_filters_return_only_changed_items(plex_sim, plex_library):
    since = int(time.time()) - 1
    episode = next(plex_library.episodes())
    plex_sim.update_item(episode.rating_key, size=123)
    season = plex_library.shows[1].seasons[0]
    added = plex_sim.add_episodes(season.rating_key, 2)
    changed = listing(plex_sim, "/library/sections/2/all", type=4, **{"episode.updatedAt>>": since})
    assert sorted(keys(changed)) == sorted([episode.rating_key, *(e.rating_key for e in added)])
    new = listing(plex_sim, "/library/sections/2/all", type=4, **{"addedAt>>": since})
    assert sorted(keys(new)) == sorted(e.rating_key for e in added)
    assert (
        keys(listing(plex_sim, "/library/sections/1/all", type=1, **{"updatedAt>>": since})) == []
    )


def test_filter_is_strictly_after_and_relative_values_work(plex_sim, plex_library):
    movie = plex_library.movies[0]
    exact = listing(plex_sim, "/library/sections/1/all", **{"updatedAt>>": movie.updated_at})
    assert movie.rating_key not in keys(exact)
    recent = listing(plex_sim, "/library/sections/1/all", **{"addedAt>>": "-1h"})
    assert keys(recent) == []
    bad = requests.get(
        plex_sim.url + "/library/sections/1/all?addedAt%3E%3E=yesterday",
        headers={"X-Plex-Token": SIM_TOKEN},
    )
    assert bad.status_code == 400


def test_sort_by_updated_desc_pages_by_headers(plex_sim, plex_library):
    root = listing(plex_sim, "/library/sections/1/all", type=1, sort="updatedAt:desc")
    stamps = [int(e.attrib["updatedAt"]) for e in root]
    assert stamps == sorted(stamps, reverse=True) and len(stamps) == 20
    page = requests.get(
        plex_sim.url + "/library/sections/2/all?type=4&sort=episode.updatedAt%3Adesc",
        headers={
            "X-Plex-Token": SIM_TOKEN,
            "X-Plex-Container-Start": "0",
            "X-Plex-Container-Size": "5",
        },
    )
    root = ElementTree.fromstring(page.content)
    assert root.attrib["size"] == "5" and root.attrib["totalSize"] == "36"


def test_details_of_several_keys_and_404_when_none_exists(plex_sim, plex_library):
    movie, show = plex_library.movies[0], plex_library.shows[0]
    root = listing(plex_sim, f"/library/metadata/{movie.rating_key},{show.rating_key},999999")
    assert keys(root) == [movie.rating_key, show.rating_key]
    assert root[1].attrib["librarySectionID"] == "2"  # details name the section, as PMS
    missing = requests.get(
        plex_sim.url + "/library/metadata/999999", headers={"X-Plex-Token": SIM_TOKEN}
    )
    assert missing.status_code == 404


def test_alert_listener_reads_timeline_playing_and_activity(plex_sim, plex_library):
    received: list[dict] = []
    server = PlexServer(plex_sim.url, SIM_TOKEN)
    listener = server.startAlertListener(callback=received.append)
    try:
        wait_for(lambda: plex_sim.listeners == 1)
        movie = plex_sim.add_movie("Brand New")
        plex_sim.emit_playing(movie.rating_key, "stopped")
        plex_sim.emit_activity("1")
        plex_sim.remove_item(movie.rating_key)
        wait_for(lambda: len(received) == 5)
    finally:
        listener.stop()
    created, processed, played, scan, deleted = received
    entry = created["TimelineEntry"][0]
    assert created["type"] == "timeline" and entry["itemID"] == str(movie.rating_key)
    assert (entry["state"], entry["metadataState"], entry["type"]) == (0, "created", 1)
    assert processed["TimelineEntry"][0]["state"] == 5
    assert played["PlaySessionStateNotification"][0]["state"] == "stopped"
    assert scan["ActivityNotification"][0]["Activity"]["type"] == "library.update.section"
    assert deleted["TimelineEntry"][0]["state"] == 9


def test_restart_cuts_websockets_and_serves_on_the_same_port(plex_sim):
    server = PlexServer(plex_sim.url, SIM_TOKEN)
    listener = server.startAlertListener(callback=lambda data: None)
    wait_for(lambda: plex_sim.listeners == 1)
    url = plex_sim.url
    plex_sim.restart()
    listener.join(timeout=5)
    assert not listener.is_alive() and plex_sim.url == url
    assert PlexServer(plex_sim.url, SIM_TOKEN).friendlyName


def test_websocket_refuses_a_wrong_token(plex_sim):
    response = requests.get(
        plex_sim.url + "/:/websockets/notifications?X-Plex-Token=wrong",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert response.status_code == 401
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
