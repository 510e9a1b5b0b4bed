"""Approved groups removed through Radarr/Sonarr (simulators over HTTP): exactly the calls
of DESIGN.md, in order, once; the exclusions; the Plex rescan; faults and retries."""

from __future__ import annotations

import pytest

from deletion.config import deletion_settings_set
from deletion.execution import deletion_execute
from deletion.models import DeletionRequest, Level, RemovalCall
from deletion.selectors import default_rule_get
from deletion.services import candidates_approve, request_retry
from media.models import MediaItem
from simulators.radarr import radarr_from_library
from syncing.models import ArrItem
from syncing.services.arr_sync import arr_server_sync
from tests import factories
from tests.arr_helpers import assert_calls_conform

pytestmark = pytest.mark.django_db
Status = DeletionRequest.Status


@pytest.fixture
def arrs(fresh_history, radarr_server, sonarr_server, radarr_sim, sonarr_sim):
    """Plex mirrored with history, both *arrs synced, dry run off; call logs emptied."""
    plex_synced = fresh_history
    arr_server_sync(server=radarr_server)
    arr_server_sync(server=sonarr_server)
    deletion_settings_set(dry_run=False, max_groups=50, max_gb=100_000, leaving_soon_days=0)
    radarr_sim.calls.clear()
    sonarr_sim.calls.clear()
    return plex_synced


def _approve(server, admin, level: str, key: int) -> DeletionRequest:
    result = candidates_approve(refs=[(level, server.pk, key)], user=admin, rule=default_rule_get())
    assert result.done, result.refused
    return DeletionRequest.objects.get(server=server, plex_id=key, status=Status.APPROVED)


def _arr_id(server, plex_key: int) -> int:
    return ArrItem.objects.get(server=server, media_item__plex_id=plex_key).arr_id


def _movie(library):
    return next(m for m in library.movies if m.media)


def _plex_deletes(plex_sim) -> list:
    return plex_sim.requests_to("/library/metadata", "DELETE")


def test_movie_goes_through_radarr_with_exclusion_and_rescan(
    arrs, admin_user, radarr_sim, radarr_server, plex_sim, plex_library
):
    movie = _movie(plex_library)
    request = _approve(arrs, admin_user, Level.MOVIE, movie.rating_key)
    movie_id = _arr_id(radarr_server, movie.rating_key)
    tmdb = radarr_sim.movies[movie_id]["tmdbId"]
    deletion_execute(user=admin_user)
    assert [str(c) for c in radarr_sim.calls] == [
        f"DELETE /api/v3/movie/{movie_id}?addImportExclusion=true&deleteFiles=true"
    ]
    assert tmdb in radarr_sim.exclusions.rows
    folder = movie.media[0].parts[0].file.rsplit("/", 1)[0]
    assert plex_sim.refreshed == [("1", folder)]
    assert _plex_deletes(plex_sim) == []
    request.refresh_from_db()
    assert request.status == Status.DELETED
    assert "through Radarr “Radarr HD” (1 call)," in request.audit.get(action="execute").message
    calls = list(request.calls.values_list("system", "method", "outcome"))
    assert calls == [("radarr", "DELETE", "ok"), ("plex", "GET", "ok")]
    assert_calls_conform("radarr", radarr_sim)


def test_show_goes_through_sonarr_with_exclusion(
    arrs, admin_user, sonarr_sim, sonarr_server, plex_sim, plex_library
):
    show = plex_library.shows[0]
    _approve(arrs, admin_user, Level.SHOW, show.rating_key)
    series_id = _arr_id(sonarr_server, show.rating_key)
    tvdb = sonarr_sim.series[series_id]["tvdbId"]
    deletion_execute(user=admin_user)
    assert [str(c) for c in sonarr_sim.calls] == [
        f"DELETE /api/v3/series/{series_id}?addImportListExclusion=true&deleteFiles=true"
    ]
    assert tvdb in sonarr_sim.exclusions.rows
    assert plex_sim.refreshed == [("2", f"/data/tv/{show.title} ({show.year})")]
    assert _plex_deletes(plex_sim) == []


def _season_files(sonarr_sim, series_id: int, number: int) -> list[int]:
    return [
        f["id"]
        for f in sonarr_sim.files.values()
        if f["seriesId"] == series_id and f["seasonNumber"] == number
    ]


def test_season_is_unmonitored_and_confirmed_before_its_files_go(
    arrs, admin_user, sonarr_sim, sonarr_server, plex_sim, plex_library
):
    show = plex_library.shows[1]
    season = show.seasons[1]
    series_id = _arr_id(sonarr_server, show.rating_key)
    files = _season_files(sonarr_sim, series_id, season.index)
    other = _season_files(sonarr_sim, series_id, show.seasons[0].index)
    request = _approve(arrs, admin_user, Level.SEASON, season.rating_key)
    deletion_execute(user=admin_user)
    assert [str(c) for c in sonarr_sim.calls] == [
        f"GET /api/v3/series/{series_id}",
        f"PUT /api/v3/series/{series_id}",
        f"GET /api/v3/series/{series_id}",
        f"GET /api/v3/episodefile?seriesId={series_id}",
        *[f"DELETE /api/v3/episodefile/{f}" for f in files],
    ]
    seasons = {s["seasonNumber"]: s["monitored"] for s in sonarr_sim.series[series_id]["seasons"]}
    assert seasons == {show.seasons[0].index: True, season.index: False}
    assert _season_files(sonarr_sim, series_id, show.seasons[0].index) == other
    assert plex_sim.refreshed == [
        ("2", f"/data/tv/{show.title} ({show.year})/Season {season.index:02d}")
    ]
    assert _plex_deletes(plex_sim) == []
    request.refresh_from_db()
    assert request.status == Status.DELETED
    assert_calls_conform("sonarr", sonarr_sim)


def test_episode_is_unmonitored_then_its_file_deleted(
    arrs, admin_user, sonarr_sim, sonarr_server, plex_sim, plex_library
):
    episode = next(e for e in plex_library.shows[2].episodes() if e.media)
    _approve(arrs, admin_user, Level.EPISODE, episode.rating_key)
    deletion_execute(user=admin_user)
    [monitor, delete] = sonarr_sim.calls
    assert str(monitor) == "PUT /api/v3/episode/monitor"
    assert monitor.body["monitored"] is False and len(monitor.body["episodeIds"]) == 1
    episode_id = monitor.body["episodeIds"][0]
    assert sonarr_sim.episodes[episode_id]["monitored"] is False
    assert sonarr_sim.episodes[episode_id]["hasFile"] is False
    assert str(delete).startswith("DELETE /api/v3/episodefile/")
    assert _plex_deletes(plex_sim) == []
    assert_calls_conform("sonarr", sonarr_sim)


def test_a_movie_in_no_radarr_goes_through_plex(
    fresh_history, radarr_sim, radarr_server, admin_user, plex_sim, plex_library
):
    plex_synced = fresh_history
    movie = _movie(plex_library)
    held = next(m for m in radarr_sim.movies.values() if m["title"] == movie.title)
    radarr_sim.movies.pop(held["id"])
    arr_server_sync(server=radarr_server)
    deletion_settings_set(dry_run=False, max_groups=50, max_gb=100_000, leaving_soon_days=0)
    radarr_sim.calls.clear()
    request = _approve(plex_synced, admin_user, Level.MOVIE, movie.rating_key)
    deletion_execute(user=admin_user)
    assert radarr_sim.calls == []
    assert [r.path for r in _plex_deletes(plex_sim)] == [f"/library/metadata/{movie.rating_key}"]
    request.refresh_from_db()
    assert request.status == Status.DELETED
    assert list(request.calls.values_list("system", flat=True)) == ["plex"]


def test_when_not_in_arr_skip_leaves_it(fresh_history, admin_user, plex_sim, plex_library):
    plex_synced = fresh_history
    deletion_settings_set(
        dry_run=False, max_groups=50, max_gb=100_000, leaving_soon_days=0, when_not_in_arr="skip"
    )
    request = _approve(plex_synced, admin_user, Level.MOVIE, _movie(plex_library).rating_key)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.SKIPPED and "Held by no Radarr/Sonarr" in request.error
    assert _plex_deletes(plex_sim) == []


def test_only_the_instance_holding_the_plex_file_is_called(
    arrs, admin_user, radarr_sim, plex_library
):
    movie = _movie(plex_library)
    with radarr_from_library(plex_library, arr_prefix="/movies4k") as uhd:
        server = factories.arr_server(
            name="Radarr 4K", base_url=uhd.url, api_key=uhd.api_key, plex=arrs,
            path_mappings=[["/movies4k", "/data/movies4k"]],
        )  # fmt: skip
        arr_server_sync(server=server)
        assert (
            ArrItem.objects.get(server=server, media_item__plex_id=movie.rating_key).matched_by
            == "tmdb"
        )
        uhd.calls.clear()
        _approve(arrs, admin_user, Level.MOVIE, movie.rating_key)
        deletion_execute(user=admin_user)
        assert uhd.calls == []
    assert len(radarr_sim.calls) == 1


def test_two_instances_with_the_same_file_are_refused(arrs, admin_user, radarr_sim, plex_library):
    movie = _movie(plex_library)
    twin = factories.arr_server(
        name="Radarr twin", base_url=radarr_sim.url, api_key=radarr_sim.api_key, plex=arrs,
        path_mappings=[["/movies", "/data/movies"]],
    )  # fmt: skip
    arr_server_sync(server=twin)
    radarr_sim.calls.clear()
    request = _approve(arrs, admin_user, Level.MOVIE, movie.rating_key)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.FAILED and "cannot tell which instance" in request.error
    assert radarr_sim.calls == []


def test_sonarr_down_fails_the_group_and_tries_nothing_else(
    arrs, admin_user, sonarr_sim, plex_sim, plex_library
):
    season = plex_library.shows[0].seasons[0]
    request = _approve(arrs, admin_user, Level.SEASON, season.rating_key)
    sonarr_sim.stop()
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.FAILED and "unreachable" in request.error
    assert _plex_deletes(plex_sim) == [] and plex_sim.refreshed == []
    live = MediaItem.objects.filter(parent_plex_id=season.rating_key, removed_at__isnull=True)
    assert live.count() == len(season.episodes)


def test_a_500_mid_season_records_the_deleted_files_and_a_retry_deletes_the_rest_once(
    arrs, admin_user, sonarr_sim, sonarr_server, plex_library
):
    show = plex_library.shows[3]
    season = show.seasons[0]
    series_id = _arr_id(sonarr_server, show.rating_key)
    first, second, *rest = _season_files(sonarr_sim, series_id, season.index)
    sonarr_sim.fault(method="DELETE", path=f"/api/v3/episodefile/{second}", status=500, count=None)
    request = _approve(arrs, admin_user, Level.SEASON, season.rating_key)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.FAILED
    assert f"1 of {2 + len(rest)} files deleted (ids {first})" in request.error
    deleted = request.calls.filter(method="DELETE", outcome="ok").values_list("path", flat=True)
    assert list(deleted) == [f"/api/v3/episodefile/{first}"]
    assert (
        MediaItem.objects.filter(parent_plex_id=season.rating_key, removed_at__isnull=False).count()
        == 1
    )

    sonarr_sim.faults.clear()
    assert request_retry(request=request, user=admin_user)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.DELETED
    deletes = [str(c) for c in sonarr_sim.calls if c.method == "DELETE" and c.status == 200]
    assert deletes == [f"DELETE /api/v3/episodefile/{f}" for f in (first, second, *rest)]


def test_a_wrong_key_is_a_one_line_failure(arrs, admin_user, radarr_server, plex_library):
    radarr_server.api_key = "not-the-key"
    radarr_server.save()
    request = _approve(arrs, admin_user, Level.MOVIE, _movie(plex_library).rating_key)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.FAILED
    assert request.error.endswith("rejected the API key (401)")
    assert "not-the-key" not in request.error and "\n" not in request.error


def test_an_unconfirmed_unmonitor_deletes_no_file(arrs, admin_user, sonarr_sim, plex_library):
    season = plex_library.shows[4].seasons[1]
    sonarr_sim.fault(method="PUT", path=r"/api/v3/series/\d+", ignore=True)
    request = _approve(arrs, admin_user, Level.SEASON, season.rating_key)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.FAILED and "did not confirm" in request.error
    assert not [c for c in sonarr_sim.calls if c.method == "DELETE"]


def test_a_movie_radarr_already_removed_counts_its_existing_exclusion_as_done(
    arrs, admin_user, radarr_sim, radarr_server, plex_library
):
    movie = _movie(plex_library)
    movie_id = _arr_id(radarr_server, movie.rating_key)
    tmdb = radarr_sim.movies.pop(movie_id)["tmdbId"]
    radarr_sim.exclusions.add(tmdb, {"tmdbId": tmdb, "movieTitle": movie.title, "movieYear": 1})
    request = _approve(arrs, admin_user, Level.MOVIE, movie.rating_key)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.DELETED
    outcomes = list(
        request.calls.filter(system="radarr").values_list("method", "status_code", "outcome")
    )
    assert outcomes == [("DELETE", 404, "already"), ("POST", 400, "already")]
    assert RemovalCall.objects.filter(request=request, system="plex").count() == 1


def test_queue_and_history_show_the_system_and_every_call(
    arrs, admin_user, client, sonarr_sim, sonarr_server, radarr_server, plex_library
):
    show = plex_library.shows[5]
    season = show.seasons[0]
    series_id = _arr_id(sonarr_server, show.rating_key)
    first, second, *_ = _season_files(sonarr_sim, series_id, season.index)
    sonarr_sim.fault(method="DELETE", path=f"/api/v3/episodefile/{second}", status=500, count=None)
    _approve(arrs, admin_user, Level.SEASON, season.rating_key)
    movie = _movie(plex_library)
    _approve(arrs, admin_user, Level.MOVIE, movie.rating_key)
    deletion_execute(user=admin_user)
    client.force_login(admin_user)
    queue = client.get("/deletion/queue/").content.decode()
    assert "Through Sonarr “Sonarr”: 6 calls" in queue
    assert f"DELETE /api/v3/episodefile/{first}</code> → Done (200)" in queue
    assert f"DELETE /api/v3/episodefile/{second}</code> → Failed (500)" in queue
    history = client.get("/deletion/history/").content.decode()
    movie_id = _arr_id(radarr_server, movie.rating_key)
    # the audit message counts Radarr's calls, the list adds Plex's rescan
    assert "Deleted through Radarr “Radarr HD” (1 call)" in history
    assert "Through Radarr “Radarr HD”: 1 call, then Plex “Home Plex”: 1 call" in history
    assert (
        f"DELETE /api/v3/movie/{movie_id}?deleteFiles=true&amp;addImportExclusion=true" in history
    )
    assert "Through Sonarr “Sonarr”: 6 calls" in history
