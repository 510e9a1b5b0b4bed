"""The Tautulli client over HTTP against the simulator: data, errors, retries, no leaked key."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from simulators.tautulli import Target, TautulliSimulator
from syncing.clients.tautulli import TautulliClient, TautulliError

KEY = "client-secret-key-5b2e1d"
MOVIE = Target(101, "movie", "The Long Road", "plex://movie/5d776b59", year=2001)
EPISODE = Target(
    212, "episode", "The Storm", "plex://episode/x", 1_800_000, 210, 200, "Season 1", "Harbor", 1, 2
)


@pytest.fixture
def sim():
    with TautulliSimulator(api_key=KEY) as simulator:
        simulator.add_play(
            target=MOVIE,
            user="alice",
            started=datetime(2024, 3, 1, 20, tzinfo=UTC),
            play_seconds=7000,
            paused_seconds=300,
            percent=97,
        )
        simulator.add_play(
            target=EPISODE,
            user="bob",
            started=datetime(2024, 3, 2, 20, tzinfo=UTC),
            play_seconds=1500,
            percent=80,
        )
        yield simulator


@pytest.fixture
def client(sim):
    with TautulliClient(sim.url, KEY, timeout=2, backoff=0) as c:
        yield c


def test_history_page_returns_typed_rows(client, sim):
    page = client.history_page(start=0, length=10, after=date(2024, 3, 1), before=date(2024, 3, 2))
    assert (page.records_filtered, page.records_total, page.raw_count) == (2, 2, 2)
    episode, movie = page.rows
    assert (
        movie.row_id,
        movie.plex_id,
        movie.parent_plex_id,
        movie.grandparent_plex_id,
    ) == (1, 101, None, None)
    assert (movie.play_duration, movie.paused_counter, movie.watched_status) == (7000, 300, 1.0)
    assert (episode.parent_plex_id, episode.grandparent_plex_id, episode.title) == (
        210,
        200,
        "Harbor - The Storm",
    )
    assert episode.started == int(datetime(2024, 3, 2, 20, tzinfo=UTC).timestamp())
    params = sim.requests[-1]
    assert (params["grouping"], params["include_activity"], params["after"]) == (
        "0",
        "0",
        "2024-03-01",
    )


def test_the_key_travels_in_the_body_not_the_url(client, sim):
    client.status()
    assert sim.requests[-1]["apikey"] == KEY
    assert KEY not in repr(client) and KEY not in client.masked_url("status")


def test_activity_rows_are_skipped(client, sim):
    sim.add_activity(target=MOVIE, started=datetime(2024, 3, 3, tzinfo=UTC))
    page = client.history_page(start=0, length=10)  # include_activity=0: none sent anyway
    assert len(page.rows) == 2


def test_length_minus_one_is_refused(client):
    with pytest.raises(ValueError):
        client.history_page(start=0, length=-1)


def test_retries_5xx_then_succeeds(client, sim):
    sim.fault(status=503, count=2)
    client.status()
    assert sim.request_count == 3


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (
            lambda sim: sim.fault(error="database is locked"),
            "Tautulli error on status (HTTP 200): database is locked",
        ),
        (lambda sim: sim.fault(status=500, count=None), "(HTTP 500): Simulated failure"),
        (lambda sim: sim.fault(malformed=True), "Tautulli sent malformed JSON for status"),
        (lambda sim: sim.fault(delay=3), "Tautulli did not answer within 2 s"),
        (lambda sim: sim.stop(), "Tautulli is unreachable at http://127.0.0.1:"),
    ],
)
def test_failures_become_one_clear_error_without_the_key(client, sim, caplog, break_it, message):
    caplog.set_level(logging.DEBUG)
    break_it(sim)
    with pytest.raises(TautulliError) as info:
        client.status()
    assert message in str(info.value)
    assert KEY not in str(info.value) and KEY not in caplog.text
    # No chained requests/urllib3 exception (whose text holds URLs) rides along in tracebacks.
    err = info.value
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)


def test_wrong_key_gives_tautullis_message(sim, caplog):
    caplog.set_level(logging.DEBUG)
    with (
        TautulliClient(sim.url, "wrong-key-0000", backoff=0) as bad,
        pytest.raises(TautulliError) as info,
    ):
        bad.status()
    assert "(HTTP 400): Invalid apikey" in str(info.value)
    assert "wrong-key-0000" not in caplog.text + str(info.value)


def test_unexpected_data_shape_is_an_error(client, sim):
    sim.fault(body=b'{"response": {"result": "success", "message": null, "data": {"rows": []}}}')
    with pytest.raises(TautulliError, match="unexpected shape"):
        client.history_page(start=0, length=10)
