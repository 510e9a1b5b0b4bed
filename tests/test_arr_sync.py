"""sync_arr against the Radarr/Sonarr simulators: links by path and by each id, counts."""

from __future__ import annotations

import pytest

from media.models import MediaItem
from simulators.radarr import radarr_from_library
from simulators.sonarr import sonarr_from_library
from syncing.clients.errors import ClientError
from syncing.models import ArrEpisode, ArrItem
from syncing.services.arr_disks import arr_capacity_get
from syncing.services.arr_sync import arr_client_for, arr_server_sync
from tests import factories
from tests.arr_helpers import assert_calls_conform

pytestmark = pytest.mark.django_db


def _movie_files(plex_synced) -> dict[str, int]:
    rows = MediaItem.objects.filter(server=plex_synced, type="movie", file_path__isnull=False)
    return dict(rows.values_list("file_path", "pk"))


def test_radarr_movies_link_by_path_after_mapping(radarr_server, radarr_sim, plex_library):
    result = arr_server_sync(server=radarr_server)
    assert result.items == len(plex_library.movies)
    with_file = ArrItem.objects.filter(server=radarr_server, file_id__isnull=False)
    assert with_file.count() > 0
    paths = _movie_files(radarr_server.plex_server)
    for item in with_file:
        assert item.file_path.startswith("/data/movies/")  # mapped from /movies
        assert item.media_item_id == paths[item.file_path]
        assert item.matched_by == ArrItem.MatchedBy.PATH
    assert result.version == radarr_sim.version
    assert_calls_conform("radarr", radarr_sim)


def test_radarr_movies_link_by_tmdb_then_imdb_without_mapping(plex_synced, plex_library):
    with radarr_from_library(plex_library, arr_prefix="/elsewhere") as sim:
        server = factories.arr_server(base_url=sim.url, api_key=sim.api_key, plex=plex_synced)
        arr_server_sync(server=server)
    how = dict(ArrItem.objects.filter(server=server).values_list("arr_id", "matched_by")).values()
    assert "tmdb" in how and "path" not in how
    imdb_only = MediaItem.objects.filter(
        server=plex_synced, type="movie", tmdb_id__isnull=True, imdb_id__isnull=False
    )
    assert imdb_only.exists()
    linked = ArrItem.objects.filter(media_item__in=imdb_only)
    assert set(linked.values_list("matched_by", flat=True)) == {"imdb"}


def test_two_plex_movies_sharing_an_id_link_to_the_first_listed(plex_synced, plex_library):
    movies = MediaItem.objects.filter(server=plex_synced, type="movie", tmdb_id__isnull=False)
    first, *_, last = movies.order_by("pk")
    MediaItem.objects.filter(pk=first.pk).update(tmdb_id=last.tmdb_id)
    MediaItem.objects.filter(pk=last.pk).update(title="Touched")  # a new row version
    with radarr_from_library(plex_library, arr_prefix="/elsewhere") as sim:
        server = factories.arr_server(base_url=sim.url, api_key=sim.api_key, plex=plex_synced)
        arr_server_sync(server=server)
        held = ArrItem.objects.filter(server=server, tmdb_id=last.tmdb_id, matched_by="tmdb")
        assert set(held.values_list("media_item_id", flat=True)) == {first.pk}
        assert arr_server_sync(server=server).written["updated"] == 0  # the same link again


def test_sonarr_series_and_episodes_link_by_path(sonarr_server, sonarr_sim, plex_library):
    result = arr_server_sync(server=sonarr_server)
    assert result.items == len(plex_library.shows)
    assert result.episodes == sum(1 for _ in plex_library.episodes())
    series = ArrItem.objects.filter(server=sonarr_server)
    assert set(series.values_list("matched_by", flat=True)) == {"path"}
    for item in series.select_related("media_item"):
        assert item.media_item.type == "show"
        assert item.title == item.media_item.title
    episodes = ArrEpisode.objects.filter(server=sonarr_server, file_id__isnull=False)
    assert set(episodes.values_list("matched_by", flat=True)) == {"path"}
    # Same-titled remakes stay apart: each episode's show is its series' show.
    for ep in episodes.select_related("media_item", "series__media_item"):
        assert ep.media_item.grandparent_plex_id == ep.series.media_item.plex_id
    assert_calls_conform("sonarr", sonarr_sim)


def test_sonarr_links_by_tvdb_when_paths_differ(plex_synced, plex_library):
    with sonarr_from_library(plex_library, arr_prefix="/tv") as sim:
        server = factories.arr_server(
            kind="sonarr", base_url=sim.url, api_key=sim.api_key, plex=plex_synced
        )
        arr_server_sync(server=server)
    series = ArrItem.objects.filter(server=server)
    assert set(series.values_list("matched_by", flat=True)) == {"tvdb"}
    episodes = ArrEpisode.objects.filter(server=server)
    assert set(episodes.values_list("matched_by", flat=True)) <= {"tvdb", "number"}
    assert not episodes.filter(media_item__isnull=True).exists()


def test_unmatched_both_ways_are_counted_and_listed(plex_synced, plex_library):
    movies = plex_library.movies
    with radarr_from_library(plex_library, movies=movies[:5], arr_prefix="/movies") as sim:
        sim.add_movie(title="Only In Radarr", year=2001, tmdb_id=4242, path="/movies/Only")
        server = factories.arr_server(
            base_url=sim.url, api_key=sim.api_key, plex=plex_synced,
            path_mappings=[["/movies", "/data/movies"]],
        )  # fmt: skip
        result = arr_server_sync(server=server)
    assert result.unmatched_arr_count == 1
    assert result.unmatched_arr == ["Only In Radarr (2001)"]
    assert result.unmatched_plex_count == len(movies) - 5
    assert len(result.unmatched_plex) == len(movies) - 5
    assert result.details()["unmatched_in_plex"]["count"] == len(movies) - 5


def test_a_second_sync_replaces_rows_and_sees_deletions(radarr_server, radarr_sim):
    arr_server_sync(server=radarr_server)
    radarr_sim.movies.pop(1)
    arr_server_sync(server=radarr_server)
    assert not ArrItem.objects.filter(server=radarr_server, arr_id=1).exists()
    assert ArrItem.objects.filter(server=radarr_server).count() == len(radarr_sim.movies)


def test_wrong_key_is_one_line_error_and_keeps_rows(radarr_server):
    arr_server_sync(server=radarr_server)
    before = ArrItem.objects.filter(server=radarr_server).count()
    radarr_server.api_key = "wrong-key"
    with pytest.raises(ClientError) as exc:
        arr_server_sync(server=radarr_server)
    assert str(exc.value) == f"Radarr at {radarr_server.base_url} rejected the API key (401)"
    assert "wrong-key" not in str(exc.value)
    assert ArrItem.objects.filter(server=radarr_server).count() == before


def test_disk_space_counts_each_filesystem_once(radarr_server, sonarr_server, radarr_sim):
    arr_server_sync(server=radarr_server)
    arr_server_sync(server=sonarr_server)
    both = arr_capacity_get()
    assert both.disks == 2
    # A 4K Radarr on the same disk as the HD one adds nothing.
    radarr_4k = factories.arr_server(
        name="Radarr 4K", base_url=radarr_sim.url, api_key=radarr_sim.api_key,
        plex=radarr_server.plex_server, path_mappings=radarr_server.path_mappings,
    )  # fmt: skip
    arr_server_sync(server=radarr_4k)
    assert arr_capacity_get().total_bytes == both.total_bytes


def test_capacity_source_radarr_sonarr_is_refreshed_by_each_sync(
    radarr_server, radarr_sim, make_staff
):
    from django.urls import reverse

    from media.services import storage_capacity_get

    client = make_staff("deletion.manage_settings")
    form = {"capacity_source": "arr", "max_groups": "10", "max_gb": "50"}
    refused = client.post(reverse("deletion:settings"), form)
    assert refused.status_code == 200 and "run sync_arr" in refused.content.decode()
    arr_server_sync(server=radarr_server)
    assert client.post(reverse("deletion:settings"), form).status_code == 302
    capacity = storage_capacity_get()
    assert capacity.source == "arr"
    assert round(capacity.total_gb * 1024**3) == radarr_sim.disks[0].total
    radarr_sim.disks[0].total *= 2
    arr_server_sync(server=radarr_server)
    assert round(storage_capacity_get().total_gb * 1024**3) == radarr_sim.disks[0].total


def test_an_arr_run_takes_a_storage_snapshot_only_when_the_capacity_moved(
    radarr_server, radarr_sim
):
    from dashboard.models import StorageSnapshot
    from media.services import storage_capacity_set
    from syncing.runs import run_now

    StorageSnapshot.objects.all().delete()  # the Plex sync of the fixture took one
    assert run_now(kind="arr", target=radarr_server, trigger="test").status == "success"
    assert not StorageSnapshot.objects.exists()  # nothing the snapshot reads changed
    storage_capacity_set(total_gb=1, source="arr")
    run = run_now(kind="arr", target=radarr_server, trigger="test")
    assert run.details["capacity_changed"] is True
    snapshot = StorageSnapshot.objects.get()
    assert snapshot.capacity_bytes == radarr_sim.disks[0].total
    snapshot.delete()
    run_now(kind="arr", target=radarr_server, trigger="test")
    assert not StorageSnapshot.objects.exists()  # the same capacity: no refresh


def test_credentials_in_the_base_url_never_show(plex_synced):
    server = factories.arr_server(base_url="http://user:s3cret@127.0.0.1:9", plex=plex_synced)
    with pytest.raises(ClientError) as exc:
        arr_server_sync(server=server)
    assert "s3cret" not in str(exc.value) and "http://***@127.0.0.1:9" in str(exc.value)


def test_a_resync_writes_only_what_changed_and_keeps_row_ids(radarr_server, radarr_sim):
    first = arr_server_sync(server=radarr_server)
    assert first.written == {"created": len(radarr_sim.movies), "updated": 0, "deleted": 0}
    before = {i.arr_id: i for i in ArrItem.objects.filter(server=radarr_server)}
    assert arr_server_sync(server=radarr_server).written == {
        "created": 0, "updated": 0, "deleted": 0,
    }  # fmt: skip
    radarr_sim.movies[2].update(monitored=False, tags=[7, 9], title="Renamed\tMovie")
    radarr_sim.movies.pop(3)
    result = arr_server_sync(server=radarr_server)
    assert result.written == {"created": 0, "updated": 1, "deleted": 1}
    after = {i.arr_id: i for i in ArrItem.objects.filter(server=radarr_server)}
    assert set(after) == set(before) - {3}
    assert all(after[k].pk == before[k].pk for k in after)
    assert (after[2].monitored, after[2].tags, after[2].title) == (False, [7, 9], "Renamed\tMovie")
    assert all(after[k].synced_at > before[k].synced_at for k in after)  # every row seen now
    unchanged = [k for k in after if k != 2]
    fields = ("title", "monitored", "tags", "seasons", "media_item_id", "matched_by", "file_path")
    for k in unchanged:
        assert [getattr(after[k], f) for f in fields] == [getattr(before[k], f) for f in fields]


def test_a_sonarr_resync_follows_removed_series_and_files(sonarr_server, sonarr_sim):
    arr_server_sync(server=sonarr_server)
    episodes = ArrEpisode.objects.filter(server=sonarr_server)
    before = dict(episodes.values_list("arr_id", "pk"))
    gone_series = next(iter(sonarr_sim.series))
    sonarr_sim.series.pop(gone_series)
    kept = next(e for e in sonarr_sim.episodes.values() if e["seriesId"] != gone_series)
    with arr_client_for(server=sonarr_server) as client:
        client.episode_file_delete(kept["episodeFileId"])
    result = arr_server_sync(server=sonarr_server)
    gone_eps = {e["id"] for e in sonarr_sim.episodes.values() if e["seriesId"] == gone_series}
    # Updated: the episode, and its series (its size on disk shrank).
    assert result.written == {"created": 0, "updated": 2, "deleted": 1 + len(gone_eps)}
    assert not ArrItem.objects.filter(server=sonarr_server, arr_id=gone_series).exists()
    after = dict(episodes.values_list("arr_id", "pk"))
    assert set(after) == set(before) - gone_eps
    assert all(after[k] == before[k] for k in after)
    row = episodes.get(arr_id=kept["id"])
    assert (row.file_id, row.file_path, row.size) == (None, None, 0)


def test_odd_characters_survive_the_bulk_write(plex_synced, plex_library):
    odd = "Tab\there, new\nline, back\\slash \\N, \"quotes\" 'n' Ünïcødé 漢字"
    with radarr_from_library(plex_library, movies=plex_library.movies[:1]) as sim:
        sim.add_movie(
            title=odd, year=1999, tmdb_id=99_999, path=f"/movies/{odd}", file=f"{odd}.mkv"
        )
        server = factories.arr_server(base_url=sim.url, api_key=sim.api_key, plex=plex_synced)
        arr_server_sync(server=server)
        item = ArrItem.objects.get(server=server, tmdb_id="99999")
        assert (item.title, item.path, item.file_path) == (
            odd,
            f"/movies/{odd}",
            f"/movies/{odd}/{odd}.mkv",
        )
        assert arr_server_sync(server=server).written["updated"] == 0  # read back equal


def test_the_proxy_environment_is_still_honoured(radarr_server, monkeypatch):
    """The client reads the proxy settings once, not per call; they still apply."""
    from syncing.services.arr_sync import arr_connection_test

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(ClientError, match="unreachable"):
        arr_connection_test(server=radarr_server)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert arr_connection_test(server=radarr_server).startswith("Radarr ")


def test_a_failed_read_midway_fails_with_one_line_and_keeps_the_rows(sonarr_server, sonarr_sim):
    """Series are read a few at a time: an error on one of them still ends the sync with
    that error, and nothing stored changes."""
    arr_server_sync(server=sonarr_server)
    before = set(ArrEpisode.objects.filter(server=sonarr_server).values_list("pk", "file_id"))
    sonarr_sim.fault(method="GET", path="/api/v3/episode", status=503, count=None, skip=3)
    next(iter(sonarr_sim.episodes.values())).update(episodeFileId=0)
    with pytest.raises(ClientError, match=r"^Sonarr answered HTTP 503 on GET /api/v3/episode"):
        arr_server_sync(server=sonarr_server)
    after = set(ArrEpisode.objects.filter(server=sonarr_server).values_list("pk", "file_id"))
    assert after == before


def test_the_reads_are_the_same_requests_as_one_at_a_time(sonarr_server, sonarr_sim):
    result = arr_server_sync(server=sonarr_server)
    per_series = [
        c for c in sonarr_sim.calls if c.path in ("/api/v3/episode", "/api/v3/episodefile")
    ]
    assert len(per_series) == 2 * len(sonarr_sim.series)
    assert result.requests == 4 + 2 * len(sonarr_sim.series)  # + status, series, disks, roots
    asked = {(c.path, c.query["seriesId"]) for c in per_series}
    assert len(asked) == len(per_series)  # each asked once
