"""The Tautulli simulator answers like the real /api/v2 (docs/tautulli-api-notes.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from simulators.tautulli import Target, TautulliSimulator, generate_history, make_targets

MOVIE = Target(101, "movie", "The Long Road", "plex://movie/5d776b59", 7_200_000, year=2001)
EPISODE = Target(
    212, "episode", "The Storm", "plex://episode/abc", 1_800_000, 210, 200, "Season 1",
    "Harbor Lights", 1, 2,
)  # fmt: skip


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def sim():
    with TautulliSimulator(tz="America/New_York") as simulator:
        simulator.add_play(
            target=MOVIE,
            user="alice",
            started=at("2024-03-01 20:00"),
            play_seconds=7200,
            paused_seconds=300,
            percent=97,
        )
        simulator.add_play(
            target=EPISODE,
            user="bob",
            started=at("2024-03-05 10:00"),
            play_seconds=1000,
            percent=40,
        )
        simulator.add_play(
            target=EPISODE,
            user="bob",
            started=at("2024-03-06 10:00"),
            play_seconds=1580,
            paused_seconds=420,
            percent=95,
        )
        simulator.add_play(
            target=MOVIE, user="alice", started=at("2024-03-10 03:00"), play_seconds=600, percent=30
        )
        yield simulator


def call(sim: TautulliSimulator, **params) -> requests.Response:
    return requests.get(f"{sim.url}/api/v2", params={"apikey": sim.api_key, **params}, timeout=5)


def history(sim: TautulliSimulator, **params) -> dict:
    resp = call(sim, cmd="get_history", grouping=0, include_activity=0, **params)
    assert resp.status_code == 200
    body = resp.json()["response"]
    assert body["result"] == "success"
    return body["data"]


def test_rows_have_the_real_names_and_types(sim):
    data = history(sim, order_column="started", order_dir="asc")
    movie, episode = data["data"][0], data["data"][1]
    assert (data["recordsFiltered"], data["recordsTotal"], data["draw"]) == (4, 4, 1)
    assert movie["rating_key"] == 101 and movie["row_id"] == movie["id"] == 1
    assert (
        movie["parent_rating_key"] == movie["grandparent_rating_key"] == movie["media_index"] == ""
    )
    assert movie["date"] == movie["started"] == int(at("2024-03-01 20:00").timestamp())
    assert movie["stopped"] - movie["started"] - movie["paused_counter"] == movie["play_duration"]
    assert (movie["percent_complete"], movie["watched_status"], movie["group_ids"]) == (97, 1, "1")
    assert movie["state"] is None and movie["session_key"] is None
    assert (episode["parent_rating_key"], episode["grandparent_rating_key"]) == (210, 200)
    assert (episode["media_index"], episode["parent_media_index"]) == (2, 1)
    assert episode["full_title"] == "Harbor Lights - The Storm"
    assert episode["watched_status"] == 0.25  # 40 %


def test_resumed_session_shares_reference_id_and_groups(sim):
    rows = history(sim, rating_key=212)["data"]
    assert {r["reference_id"] for r in rows} == {2}
    grouped = call(sim, cmd="get_history", grouping=1, rating_key=212).json()["response"]["data"]
    assert grouped["recordsFiltered"] == 1 and grouped["recordsTotal"] == 4
    (group,) = grouped["data"]
    assert (group["group_count"], group["group_ids"], group["play_duration"]) == (2, "2,3", 2580)


def test_date_filters_are_inclusive_on_start_day_in_server_timezone(sim):
    # 2024-03-10T03:00Z is still 2024-03-09 in New York.
    assert history(sim, before="2024-03-09")["recordsFiltered"] == 4
    assert history(sim, after="2024-03-10")["recordsFiltered"] == 0
    assert history(sim, after="2024-03-05", before="2024-03-06")["recordsFiltered"] == 2
    assert history(sim, start_date="2024-03-01,2024-03-09")["recordsFiltered"] == 2
    assert history(sim, after="2024-3-5")["recordsFiltered"] == 0  # bad format → no rows
    with TautulliSimulator(tz="UTC") as utc_sim:
        utc_sim.add_play(target=MOVIE, started=at("2024-03-10 03:00"))
        assert history(utc_sim, before="2024-03-09")["recordsFiltered"] == 0


def test_paging_is_a_python_slice_including_the_length_minus_one_trap(sim):
    all_ids = [r["row_id"] for r in history(sim, length=100)["data"]]
    assert all_ids == [4, 3, 2, 1]  # default: date desc
    assert [r["row_id"] for r in history(sim, start=1, length=2)["data"]] == [3, 2]
    assert [r["row_id"] for r in history(sim, length=-1)["data"]] == [4, 3, 2]
    page = history(sim, start=10, length=5)
    assert page["data"] == [] and page["recordsFiltered"] == 4


def test_filters_with_comma_lists_and_ordering(sim):
    assert history(sim, user_id="100001,100002")["recordsFiltered"] == 4
    assert history(sim, media_type="movie")["recordsFiltered"] == 2
    assert history(sim, grandparent_rating_key="200,300")["recordsFiltered"] == 2
    names = [
        r["user"]
        for r in history(sim, order_column="friendly_name,date", order_dir="asc,desc")["data"]
    ]
    assert names == ["alice", "alice", "bob", "bob"]
    assert [r["row_id"] for r in history(sim, order_column="row_id")["data"]] == [1, 2, 3, 4]


def test_rating_key_filters_match_each_column_of_the_row(sim):
    """rating_key, parent_rating_key and grandparent_rating_key match the rows' own
    columns (a movie's parent keys are "", so a parent filter never matches it)."""
    assert history(sim, rating_key=101)["recordsFiltered"] == 2
    assert history(sim, rating_key=200)["recordsFiltered"] == 0  # a show key is no row's key
    assert history(sim, parent_rating_key=210)["recordsFiltered"] == 2
    assert history(sim, parent_rating_key=101)["recordsFiltered"] == 0
    assert history(sim, grandparent_rating_key=200, rating_key=212)["recordsFiltered"] == 2
    assert history(sim, grandparent_rating_key=200, rating_key=101)["recordsFiltered"] == 0


def test_play_added_while_running_is_seen_at_once_newest_stop_first(sim):
    assert history(sim, rating_key=101, length=1, order_column="stopped")["data"][0]["row_id"] == 4
    later = sim.add_play(target=MOVIE, user="carol", started=at("2024-02-01 10:00"))
    assert later == 5  # row ids follow the order rows were written (stop time)
    newest = history(sim, rating_key=101, order_column="stopped", order_dir="desc")["data"]
    assert [r["row_id"] for r in newest] == [4, 1, 5]  # an old start sorts by its stop


def test_activity_rows_appear_unless_excluded(sim):
    sim.add_activity(target=MOVIE, user="zoe", started=at("2024-03-11 10:00"))
    rows = call(sim, cmd="get_history", grouping=0).json()["response"]["data"]["data"]
    assert rows[0]["state"] == "playing" and rows[0]["row_id"] is None
    assert len(history(sim)["data"]) == 4


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"apikey": None, "cmd": "status"}, 400, "Parameter apikey is required"),
        ({"apikey": "nope", "cmd": "status"}, 400, "Invalid apikey"),
        ({"cmd": "get_everything"}, 400, "Unknown command: get_everything."),
        ({"cmd": "get_history", "start": "abc"}, 500, "Check the logs for errors"),
        ({"cmd": "get_item_watch_time_stats"}, 400, None),
    ],
)
def test_errors_look_like_the_real_server(sim, params, status, message):
    query = {"apikey": sim.api_key, **params}
    resp = requests.get(
        f"{sim.url}/api/v2", params={k: v for k, v in query.items() if v}, timeout=5
    )
    body = resp.json()["response"]
    assert resp.status_code == status and body["result"] == "error" and body["data"] == {}
    assert body["message"] == message or body["message"].startswith(message)


def test_other_commands_and_post(sim):
    assert call(sim, cmd="status").json()["response"]["message"] == "Ok"
    assert call(sim, cmd="get_server_info").json()["response"]["data"]["pms_name"]
    names = call(sim, cmd="get_library_names").json()["response"]["data"]
    assert {n["section_type"] for n in names} == {"movie", "show"}
    stats = call(sim, cmd="get_item_watch_time_stats", rating_key=200, query_days="0").json()
    assert stats["response"]["data"] == [{"query_days": 0, "total_time": 2580, "total_plays": 1}]
    posted = requests.post(
        f"{sim.url}/api/v2", data={"apikey": sim.api_key, "cmd": "arnold"}, timeout=5
    )
    assert posted.json()["response"]["result"] == "success"


def test_faults_and_request_log(sim):
    sim.fault(status=503)
    assert call(sim, cmd="status").status_code == 503
    sim.fault(error="database is locked", cmd="get_history")
    assert call(sim, cmd="status").status_code == 200  # other commands unaffected
    assert call(sim, cmd="get_history").json()["response"]["message"] == "database is locked"
    sim.fault(malformed=True)
    with pytest.raises(ValueError):
        call(sim, cmd="status").json()
    assert sim.request_count == 4 and sim.requests[2]["cmd"] == "get_history"
    assert call(sim, cmd="status").json()["response"]["result"] == "success"
    url = sim.url
    sim.stop()  # "down": the port refuses connections
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/v2", timeout=1)


def test_gzip_when_asked(sim):
    resp = call(sim, cmd="get_history", length=100)
    assert resp.headers["Content-Encoding"] == "gzip"


def test_generator_is_deterministic_with_resumes_rewatches_and_users():
    targets = make_targets(movies=5, shows=2, seasons=1, episodes=3)
    end = int(at("2024-06-01 00:00").timestamp())
    one = generate_history(targets, users=4, rows=2000, days=60, seed=3, end=end)
    two = generate_history(targets, users=4, rows=2000, days=60, seed=3, end=end)
    assert list(one.started) == list(two.started) and list(one.ref) == list(two.ref)
    assert len(one) == 2000 and len(one.users) == 4
    assert len(set(one.ref)) < 2000  # resumed sessions share a reference_id
    assert any(p > 0 for p in one.paused)
    with TautulliSimulator(history=one) as sim:
        data = history(sim, length=5000)
        assert data["recordsFiltered"] == 2000
        stops = [r["stopped"] for r in sorted(data["data"], key=lambda r: r["row_id"])]
        assert stops == sorted(stops)  # row ids follow stop time
        assert all(r["started"] >= end - 60 * 86400 for r in data["data"])
