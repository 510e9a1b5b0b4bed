"""The Radarr and Sonarr simulators against the official OpenAPI documents (contract test),
plus the undocumented behaviour the specs' README records (auth, errors, status codes)."""

from __future__ import annotations

import pytest
import requests

from simulators.arr import Disk
from tests.arr_helpers import assert_calls_conform, assert_response_conforms

RADARR_GETS = [
    "/api/v3/movie",
    "/api/v3/movie/1",
    "/api/v3/moviefile?movieId=1",
    "/api/v3/exclusions",
    "/api/v3/system/status",
    "/api/v3/diskspace",
    "/api/v3/rootfolder",
    "/api/v3/tag",
    "/api/v3/qualityprofile",
]
SONARR_GETS = [
    "/api/v3/series",
    "/api/v3/series/1",
    "/api/v3/episode?seriesId=1",
    "/api/v3/episode?seriesId=1&seasonNumber=1",
    "/api/v3/episodefile?seriesId=1",
    "/api/v3/importlistexclusion",
    "/api/v3/system/status",
    "/api/v3/diskspace",
    "/api/v3/rootfolder",
    "/api/v3/tag",
    "/api/v3/qualityprofile",
]


def _get(sim, path: str) -> requests.Response:
    return requests.get(sim.url + path, headers={"X-Api-Key": sim.api_key}, timeout=5)


@pytest.mark.parametrize("path", RADARR_GETS)
def test_radarr_reads_match_the_spec(radarr_sim, path):
    resp = _get(radarr_sim, path)
    assert resp.status_code == 200
    assert resp.json(), "an empty answer would prove nothing"
    assert_response_conforms("radarr", "GET", path.split("?")[0], resp.json())


@pytest.mark.parametrize("path", SONARR_GETS)
def test_sonarr_reads_match_the_spec(sonarr_sim, path):
    resp = _get(sonarr_sim, path)
    assert resp.status_code == 200
    assert resp.json()
    assert_response_conforms("sonarr", "GET", path.split("?")[0], resp.json())


def test_sonarr_writes_answer_202_201_and_match_the_spec(sonarr_sim):
    h = {"X-Api-Key": sonarr_sim.api_key}
    series = _get(sonarr_sim, "/api/v3/series/1").json()
    series["seasons"][0]["monitored"] = False
    put = requests.put(f"{sonarr_sim.url}/api/v3/series/1", json=series, headers=h, timeout=5)
    assert put.status_code == 202
    assert put.json()["seasons"][0]["monitored"] is False
    assert_response_conforms("sonarr", "PUT", "/api/v3/series/1", put.json())
    body = {"episodeIds": [1, 2], "monitored": False}
    mon = requests.put(f"{sonarr_sim.url}/api/v3/episode/monitor", json=body, headers=h, timeout=5)
    assert (mon.status_code, mon.content) == (202, b"")
    post = requests.post(
        f"{sonarr_sim.url}/api/v3/importlistexclusion", json={"tvdbId": 1, "title": "X"}, headers=h
    )
    assert post.status_code == 201
    assert_response_conforms("sonarr", "POST", "/api/v3/importlistexclusion", post.json())
    bulk = requests.delete(
        f"{sonarr_sim.url}/api/v3/episodefile/bulk", json={"episodeFileIds": [1]}, headers=h
    )
    assert (bulk.status_code, bulk.json()) == (200, {})
    assert_calls_conform("sonarr", sonarr_sim)


@pytest.mark.parametrize(
    ("kind", "path", "body"),
    [
        ("radarr", "/api/v3/exclusions", {"tmdbId": 603, "movieTitle": "M", "movieYear": 1999}),
        ("sonarr", "/api/v3/importlistexclusion", {"tvdbId": 81189, "title": "S"}),
    ],
)
def test_duplicate_exclusion_is_a_validation_400(radarr_sim, sonarr_sim, kind, path, body):
    sim = radarr_sim if kind == "radarr" else sonarr_sim
    h = {"X-Api-Key": sim.api_key}
    assert requests.post(sim.url + path, json=body, headers=h, timeout=5).status_code == 201
    again = requests.post(sim.url + path, json=body, headers=h, timeout=5)
    assert again.status_code == 400
    assert again.json()[0]["errorMessage"] == "This exclusion has already been added."
    assert_calls_conform(kind, sim)


def test_api_key_from_query_header_or_bearer_else_401_empty(radarr_sim):
    url = f"{radarr_sim.url}/api/v3/system/status"
    key = radarr_sim.api_key
    assert requests.get(url, params={"apikey": key}, timeout=5).status_code == 200
    assert requests.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    for headers in ({}, {"X-Api-Key": "wrong"}):
        resp = requests.get(url, headers=headers, timeout=5)
        assert (resp.status_code, resp.content) == (401, b"")


def test_error_shapes_of_unknown_ids(radarr_sim, sonarr_sim):
    got = _get(radarr_sim, "/api/v3/movie/999")
    assert got.status_code == 404
    assert got.headers["Content-Type"] == "application/problem+json"
    h = {"X-Api-Key": radarr_sim.api_key}
    gone = requests.delete(f"{radarr_sim.url}/api/v3/movie/999", headers=h, timeout=5)
    assert gone.status_code == 404 and "does not exist" in gone.json()["message"]
    h = {"X-Api-Key": sonarr_sim.api_key}
    series = requests.delete(f"{sonarr_sim.url}/api/v3/series/999", headers=h, timeout=5)
    assert series.status_code == 500  # Sonarr's quirk, not a 404
    bad_bool = requests.delete(f"{radarr_sim.url}/api/v3/movie/1?deleteFiles=1", headers=h)
    assert bad_bool.status_code in (400, 401)


def test_deleting_a_movie_frees_disk_space_and_adds_the_exclusion_once(radarr_sim):
    h = {"X-Api-Key": radarr_sim.api_key}
    before = _get(radarr_sim, "/api/v3/diskspace").json()[0]["freeSpace"]
    movie = _get(radarr_sim, "/api/v3/movie/1").json()
    url = f"{radarr_sim.url}/api/v3/movie/1?deleteFiles=true&addImportExclusion=true"
    resp = requests.delete(url, headers=h, timeout=5)
    assert (resp.status_code, resp.content) == (200, b"")
    after = _get(radarr_sim, "/api/v3/diskspace").json()[0]["freeSpace"]
    assert after - before == movie["movieFile"]["size"]
    excluded = [e["tmdbId"] for e in _get(radarr_sim, "/api/v3/exclusions").json()]
    assert excluded.count(movie["tmdbId"]) == 1
    assert _get(radarr_sim, "/api/v3/movie/1").status_code == 404


def test_faults_on_demand(sonarr_sim):
    sonarr_sim.fault(method="GET", path=r"/api/v3/series", status=503)
    assert _get(sonarr_sim, "/api/v3/series").status_code == 503
    assert _get(sonarr_sim, "/api/v3/series").status_code == 200  # once by default
    sonarr_sim.fault(method="PUT", path=r"/api/v3/series/\d+", ignore=True)
    series = _get(sonarr_sim, "/api/v3/series/1").json()
    series["monitored"] = False
    h = {"X-Api-Key": sonarr_sim.api_key}
    put = requests.put(f"{sonarr_sim.url}/api/v3/series/1", json=series, headers=h, timeout=5)
    assert put.status_code == 202
    assert _get(sonarr_sim, "/api/v3/series/1").json()["monitored"] is True  # ignored
    assert [str(c) for c in sonarr_sim.calls][-1] == "GET /api/v3/series/1"


def test_root_folder_free_space_comes_from_its_disk(sonarr_sim):
    sonarr_sim.disks = [Disk(path="/data", total=100, free=40)]
    assert _get(sonarr_sim, "/api/v3/rootfolder").json()[0]["freeSpace"] == 40
