"""Contract tests: the Seerr simulator's answers validate against the official seerr-api.yml."""

from __future__ import annotations

import pytest
import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from tests.seerr_helpers import seerr_openapi, seerr_sim

__all__ = ["seerr_sim"]  # fixtures


def _get(
    sim, path: str, key: str | None = None
) -> tuple[requests.PreparedRequest, requests.Response]:
    headers = {"X-Api-Key": key if key is not None else sim.api_key}
    prepared = requests.Request("GET", sim.url + path, headers=headers).prepare()
    with requests.Session() as session:
        return prepared, session.send(prepared, timeout=5)


def _validate(prepared, response) -> None:
    seerr_openapi().validate_response(
        RequestsOpenAPIRequest(prepared), RequestsOpenAPIResponse(response)
    )


@pytest.fixture
def filled(seerr_sim):
    ann = seerr_sim.add_user(email="ann@example.test", plex_username="ann")
    local = seerr_sim.add_user(email="local@example.test", username="localonly")
    for n in range(25):
        seerr_sim.add_request(user=ann, media_type="movie", tmdb_id=100 + n)
    seerr_sim.add_request(user=local, media_type="tv", tmdb_id=9, tvdb_id=77, seasons=[1, 2])
    return seerr_sim


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/request?take=10&skip=0&filter=all&sort=added",
        "/api/v1/request?take=10&skip=20&filter=all&sort=added",
        "/api/v1/request?take=5&skip=0&filter=approved&sort=added&sortDirection=asc",
        "/api/v1/request?take=5&skip=0&mediaType=tv",
        "/api/v1/user?take=10&skip=0",
        "/api/v1/status",
    ],
)
def test_answers_match_the_official_spec(filled, path):
    prepared, response = _get(filled, path)
    assert response.status_code == 200
    _validate(prepared, response)


def test_request_pages_walk_to_the_end(filled):
    _, first = _get(filled, "/api/v1/request?take=10&skip=0&filter=all&sort=added")
    _, last = _get(filled, "/api/v1/request?take=10&skip=20&filter=all&sort=added")
    assert first.json()["pageInfo"] == {"pages": 3, "pageSize": 10, "results": 26, "page": 1}
    assert len(last.json()["results"]) == 6
    tv = [r for r in last.json()["results"] + first.json()["results"] if r["type"] == "tv"]
    assert tv[0]["media"]["tvdbId"] == 77
    assert [s["seasonNumber"] for s in tv[0]["seasons"]] == [1, 2]


def test_a_local_user_has_no_plex_username(filled):
    _, response = _get(filled, "/api/v1/user?take=10&skip=0")
    local = response.json()["results"][1]
    assert "plexUsername" not in local and local["username"] == "localonly"


@pytest.mark.parametrize("key", ["", "wrong-key"])
def test_without_the_right_key_the_answer_is_403(filled, key):
    _, response = _get(filled, "/api/v1/request?take=10", key=key)
    assert response.status_code == 403
    assert response.json()["error"] == "You do not have permission to access this endpoint"


def test_the_validator_rejects_a_broken_answer(filled):
    """The contract test can fail: a request id sent as text breaks the MediaRequest schema."""
    prepared, response = _get(filled, "/api/v1/request?take=1&skip=0")
    response._content = response.content.replace(b'"id": 26', b'"id": "26"', 1)
    with pytest.raises(Exception, match=r"(?i)invalid|validation"):
        _validate(prepared, response)
