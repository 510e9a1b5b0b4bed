"""plex_library_sync / plex_sync_all against the Plex simulator, over real HTTP and plexapi."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from media.models import LibrarySection, MediaItem
from simulators.library import generate_library
from simulators.plex import PlexSimulator
from syncing.models import SyncRun
from syncing.runs import SyncAlreadyRunning, run_execute, run_queue
from syncing.services.operations import sync_all
from syncing.services.plex_sync import plex_library_sync
from tests import factories
from tests.conftest_plex import SIM_TOKEN

pytestmark = pytest.mark.django_db

ITEMS = 20 + 6 + 12 + 36  # movies, shows, seasons, episodes of the `plex_library` fixture


def sync(server, **kw) -> SyncRun:
    run = plex_library_sync(server=server, trigger="test", **kw)
    run.refresh_from_db()
    return run


def row(server, rating_key: int) -> MediaItem:
    return MediaItem.objects.get(server=server, plex_id=rating_key)


def epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def give_stats(server) -> dict[int, tuple]:
    """Pretend Tautulli wrote statistics on every movie and episode; returns them."""
    watched = timezone.now() - timedelta(days=3)
    MediaItem.objects.filter(server=server, type__in=["movie", "episode"]).update(
        total_play_count=4,
        last_watched_at=watched,
        total_watch_time_seconds=3600,
        tautulli_synced_at=watched,
    )
    return stats_of(server)


def stats_of(server) -> dict[int, tuple]:
    return {
        r[0]: r[1:]
        for r in MediaItem.objects.filter(server=server).values_list(
            "plex_id",
            "total_play_count",
            "last_watched_at",
            "total_watch_time_seconds",
            "tautulli_synced_at",
        )
    }


# --- a full sync ------------------------------------------------------------------------


def test_full_sync_stores_every_type_with_every_field(sim_server, plex_library, small_pages):
    run = sync(sim_server)

    assert (run.status, run.error) == (SyncRun.Status.SUCCESS, "")
    assert (run.items_seen, run.items_created, run.items_updated, run.items_gone) == (
        ITEMS,
        ITEMS,
        0,
        0,
    )
    assert run.progress_done == run.progress_total == ITEMS
    counts = {t: MediaItem.objects.filter(type=t).count() for t in MediaItem.MediaType.values}
    assert counts == {"movie": 20, "show": 6, "season": 12, "episode": 36}
    sections = {s.key: s for s in LibrarySection.objects.filter(server=sim_server)}
    assert {k: (s.section_type, s.included) for k, s in sections.items()} == {
        "1": ("movie", True),
        "2": ("show", True),
    }

    for obj in plex_library.iter_items():
        item = row(sim_server, obj.rating_key)
        assert item.title == obj.title
        assert item.type == obj.media_type
        assert item.guid == obj.guid
        assert item.year == obj.year
        assert item.added_at == epoch(obj.added_at)
        assert item.plex_updated_at == epoch(obj.updated_at)
        assert item.section == sections[obj.section_key]
        assert item.removed_at is None and item.plex_synced_at is not None
        assert (item.total_play_count, item.last_watched_at) == (0, None)
        media = getattr(obj, "media", [])
        parts = [p for m in media for p in m.parts]
        assert item.file_path == (media[0].parts[0].file if media else None)
        assert item.file_size_bytes == (sum(p.size for p in parts) if parts else None)
        if obj.media_type == "episode":
            assert (item.parent_plex_id, item.grandparent_plex_id) == (
                obj.season.rating_key,
                obj.show.rating_key,
            )
            assert (item.parent_title, item.grandparent_title) == (obj.season.title, obj.show.title)
            assert (item.season_number, item.episode_number) == (obj.season.index, obj.index)
        elif obj.media_type == "season":
            assert (item.parent_plex_id, item.parent_title) == (obj.show.rating_key, obj.show.title)
            assert (item.season_number, item.episode_number) == (obj.index, None)
            assert item.grandparent_plex_id is None
        else:
            assert (item.parent_plex_id, item.grandparent_plex_id, item.season_number) == (
                None,
                None,
                None,
            )


def test_specials_are_season_zero(sim_server, plex_library):
    sync(sim_server)
    show = next(s for s in plex_library.shows if s.seasons[0].index == 0)
    specials = row(sim_server, show.seasons[0].rating_key)
    assert (specials.title, specials.season_number) == ("Specials", 0)
    episodes = MediaItem.objects.filter(parent_plex_id=specials.plex_id, type="episode")
    assert episodes.count() == 3 and set(episodes.values_list("season_number", flat=True)) == {0}


def test_new_and_legacy_guid_styles_both_parse(sim_server, plex_library):
    sync(sim_server)
    movies = {
        m.guid.split(":")[0] + ("+tags" if m.guid_tags else ""): m for m in plex_library.movies
    }
    modern = movies["plex+tags"]
    imdb_tag = next(t for t in modern.guid_tags if t.startswith("imdb://"))
    tmdb_tag = next(t for t in modern.guid_tags if t.startswith("tmdb://"))
    got = row(sim_server, modern.rating_key)
    assert (got.imdb_id, got.tmdb_id, got.tvdb_id) == (imdb_tag[7:], tmdb_tag[7:], None)

    legacy_imdb = row(sim_server, movies["com.plexapp.agents.imdb"].rating_key)
    assert legacy_imdb.imdb_id == legacy_imdb.guid.split("://")[1].split("?")[0]
    assert legacy_imdb.imdb_id.startswith("tt") and legacy_imdb.tmdb_id is None
    legacy_tmdb = row(sim_server, movies["com.plexapp.agents.themoviedb"].rating_key)
    assert legacy_tmdb.tmdb_id == legacy_tmdb.guid.split("://")[1].split("?")[0]
    local = row(sim_server, movies["local"].rating_key)
    assert (local.imdb_id, local.tmdb_id, local.tvdb_id) == (None, None, None)

    legacy_show = next(s for s in plex_library.shows if s.guid.startswith("com.plexapp"))
    show_row = row(sim_server, legacy_show.rating_key)
    tvdb = legacy_show.guid.split("://")[1].split("?")[0]
    assert show_row.tvdb_id == tvdb
    episode = legacy_show.seasons[0].episodes[1]
    ep_row = row(sim_server, episode.rating_key)
    assert ep_row.guid == f"com.plexapp.agents.thetvdb://{tvdb}/{episode.season_number}/2?lang=en"
    assert ep_row.tvdb_id is None  # the legacy id is the show's, never claimed as the episode's
    modern_ep = next(e for e in plex_library.episodes() if e.guid_tags)
    assert row(sim_server, modern_ep.rating_key).tvdb_id == modern_ep.guid_tags[2][7:]


def test_multi_version_and_multi_part_sizes_add_up(sim_server, plex_library):
    sync(sim_server)
    two_versions = next(m for m in plex_library.movies if len(m.media) == 2)
    stacked = next(m for m in plex_library.movies if m.media and len(m.media[0].parts) == 2)
    no_media = next(m for m in plex_library.movies if not m.media)
    for movie in (two_versions, stacked):
        sizes = [p.size for m in movie.media for p in m.parts]
        assert len(sizes) >= 2
        got = row(sim_server, movie.rating_key)
        assert got.file_size_bytes == sum(sizes)
        assert got.file_path == movie.media[0].parts[0].file
    empty = row(sim_server, no_media.rating_key)
    assert (empty.file_path, empty.file_size_bytes) == (None, None)


def test_shows_with_the_same_title_stay_separate(sim_server, plex_library):
    sync(sim_server)
    first, remake = plex_library.shows[0], plex_library.shows[5]
    assert first.title == remake.title
    rows = MediaItem.objects.filter(type="show", title=first.title)
    assert sorted(rows.values_list("plex_id", flat=True)) == sorted(
        [first.rating_key, remake.rating_key]
    )
    for show in (first, remake):
        episodes = MediaItem.objects.filter(type="episode", grandparent_plex_id=show.rating_key)
        assert episodes.count() == 6
        assert set(episodes.values_list("grandparent_title", flat=True)) == {first.title}


# --- re-syncs -----------------------------------------------------------------------------


def test_second_sync_creates_nothing_and_keeps_stats(sim_server, small_pages):
    sync(sim_server)
    before = give_stats(sim_server)
    run = sync(sim_server)
    assert (run.status, run.items_seen, run.items_created, run.items_updated, run.items_gone) == (
        SyncRun.Status.SUCCESS,
        ITEMS,
        0,
        0,
        0,
    )
    assert MediaItem.objects.count() == ITEMS
    assert stats_of(sim_server) == before


def test_a_rename_updates_title_and_keeps_stats(sim_server, plex_sim, plex_library):
    sync(sim_server)
    before = give_stats(sim_server)
    movie = plex_library.movies[3]
    plex_sim.rename(movie.rating_key, "A New Name")
    run = sync(sim_server)
    assert (run.items_created, run.items_updated) == (0, 1)
    assert row(sim_server, movie.rating_key).title == "A New Name"
    assert stats_of(sim_server) == before


def test_a_show_rename_reaches_its_seasons_and_episodes(sim_server, plex_sim, plex_library):
    sync(sim_server)
    show = plex_library.shows[1]
    plex_sim.rename(show.rating_key, "Renamed Show")
    run = sync(sim_server)
    assert run.items_updated == 1 + 2 + 6  # the show, its seasons (parentTitle), its episodes
    episodes = MediaItem.objects.filter(type="episode", grandparent_plex_id=show.rating_key)
    assert set(episodes.values_list("grandparent_title", flat=True)) == {"Renamed Show"}


def test_items_removed_from_plex_are_marked_gone_and_come_back(sim_server, plex_sim, plex_library):
    sync(sim_server)
    before = give_stats(sim_server)
    movie = plex_library.movies[0]
    episode = plex_library.shows[2].seasons[1].episodes[2]
    season = plex_library.shows[3].seasons[0]
    season_keys = {season.rating_key} | {e.rating_key for e in season.episodes}
    plex_sim.remove_item(movie.rating_key)
    plex_sim.remove_item(episode.rating_key)
    plex_sim.remove_item(season.rating_key)

    run = sync(sim_server)
    assert (run.status, run.items_gone, run.items_seen) == (SyncRun.Status.SUCCESS, 6, ITEMS - 6)
    gone = set(MediaItem.objects.filter(removed_at__isnull=False).values_list("plex_id", flat=True))
    assert gone == {movie.rating_key, episode.rating_key} | season_keys
    assert MediaItem.objects.count() == ITEMS  # rows and their history stay
    assert stats_of(sim_server) == before

    plex_library.section("1").items.append(movie)
    plex_sim.changed()
    run = sync(sim_server)
    assert (run.items_created, run.items_updated, run.items_gone) == (0, 1, 0)
    assert row(sim_server, movie.rating_key).removed_at is None


# --- efficiency ---------------------------------------------------------------------------


@pytest.fixture
def medium_sim():
    library = generate_library(shows=10, seasons_per_show=3, episodes_per_season=8, movies=100)
    with PlexSimulator(library, token=SIM_TOKEN) as sim:
        yield sim


def test_requests_are_bounded_by_items_over_page_size(medium_sim, settings):
    settings.PLEX_PAGE_SIZE = 25
    server = factories.plex_server(base_url=medium_sim.url, token=SIM_TOKEN)
    run = sync(server)
    n = {"movie": 100, "show": 10, "season": 30, "episode": 240}
    pages = sum(math.ceil(count / 25) for count in n.values())
    assert run.items_seen == sum(n.values()) == 380
    assert run.pages_fetched == pages == 17
    # GET /, /library, /library/sections, one count per listed type (4): 7 fixed requests.
    assert run.requests_made == medium_sim.request_count == pages + 7
    assert not medium_sim.requests_to("/library/metadata")  # never a per-item request
    listing = medium_sim.requests_to("/library/sections/2/all")
    paged = [r for r in listing if r.headers.get("X-Plex-Container-Size") == "25"]
    assert {r.query["includeGuids"] for r in paged} == {"1"}


def test_progress_is_reported_after_every_page(sim_server, small_pages):
    seen = []
    run = sync(sim_server, on_progress=lambda r: seen.append((r.progress_done, r.progress_total)))
    assert run.pages_fetched == 3 + 1 + 2 + 6  # 20 movies, 6 shows, 12 seasons, 36 episodes by 7
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and dones[-1] == ITEMS
    assert {t for _, t in seen} == {ITEMS}


# --- failures: nothing lost, nothing marked gone -------------------------------------------


def _prepare_failure(server, sim, library):
    """Full sync, stats on every row, then an episode and a movie leave Plex."""
    sync(server)
    stats = give_stats(server)
    sim.remove_item(library.shows[0].seasons[0].episodes[0].rating_key)
    sim.remove_item(library.movies[19].rating_key)
    sim.reset_requests()
    return stats


def assert_nothing_lost(server, stats) -> None:
    assert MediaItem.objects.filter(server=server).count() == ITEMS
    assert not MediaItem.objects.filter(server=server, removed_at__isnull=False).exists()
    assert stats_of(server) == stats


def test_a_500_in_the_middle_of_a_section_fails_cleanly(
    sim_server, plex_sim, plex_library, small_pages
):
    stats = _prepare_failure(sim_server, plex_sim, plex_library)
    plex_sim.fail_on("/library/sections/2/all", query={"type": "4", "includeGuids": "1"}, after=2)
    run = sync(sim_server)
    assert run.status == SyncRun.Status.FAILED
    assert (
        run.error
        == f"Plex at {plex_sim.url} answered HTTP 500 while reading /library/sections/2/all"
    )
    assert run.items_gone == 0 and run.finished_at is not None
    assert run.items_seen > 20  # the movie section and part of the TV section were read
    # Even the movie section, read completely, flags nothing: the run as a whole failed.
    assert_nothing_lost(sim_server, stats)


def test_a_failure_marks_nothing_gone_anywhere(sim_server, plex_sim, plex_library, small_pages):
    stats = _prepare_failure(sim_server, plex_sim, plex_library)
    plex_sim.fail_on("/library/sections/1/all", query={"includeGuids": "1"}, after=1)
    run = sync(sim_server)
    assert run.status == SyncRun.Status.FAILED and "HTTP 500" in run.error
    assert_nothing_lost(sim_server, stats)


def test_wrong_token_fails_without_leaking_it(sim_server, plex_sim, plex_library):
    stats = _prepare_failure(sim_server, plex_sim, plex_library)
    sim_server.token = "wrong-secret-token"
    sim_server.save()
    run = sync(sim_server)
    assert run.status == SyncRun.Status.FAILED
    assert run.error == f"Plex at {plex_sim.url} rejected the token (401) while connecting"
    assert "wrong-secret-token" not in run.error and SIM_TOKEN not in run.error
    assert_nothing_lost(sim_server, stats)


def test_malformed_xml_fails_cleanly(sim_server, plex_sim, plex_library, small_pages):
    stats = _prepare_failure(sim_server, plex_sim, plex_library)
    plex_sim.malformed_on("/library/sections/1/all", query={"includeGuids": "1"}, after=1)
    run = sync(sim_server)
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith(f"Plex at {plex_sim.url} sent malformed XML while reading")
    assert_nothing_lost(sim_server, stats)


def test_server_down_fails_cleanly(sim_server, plex_sim, plex_library):
    stats = _prepare_failure(sim_server, plex_sim, plex_library)
    plex_sim.stop()
    run = sync(sim_server)
    assert run.status == SyncRun.Status.FAILED
    assert run.error == (
        f"Cannot reach Plex at {sim_server.base_url} while connecting: ConnectionError"
    )
    assert_nothing_lost(sim_server, stats)


def test_timeout_fails_cleanly(sim_server, plex_sim, plex_library, settings):
    stats = _prepare_failure(sim_server, plex_sim, plex_library)
    settings.PLEX_TIMEOUT = 0.3
    plex_sim.delay_on("/library/sections/2/all", 1.0, after=3)
    run = sync(sim_server)
    assert run.status == SyncRun.Status.FAILED
    assert run.error == (
        f"Plex at {plex_sim.url} did not answer within 0.3s while reading /library/sections/2/all"
    )
    assert_nothing_lost(sim_server, stats)


def test_a_section_disappearing_mid_sync_fails_and_marks_nothing(
    sim_server, plex_sim, plex_library, small_pages
):
    stats = _prepare_failure(sim_server, plex_sim, plex_library)

    def remove_tv_after_its_first_page(run):
        if run.progress_label.startswith("TV Shows") and plex_library.sections[-1].key == "2":
            plex_sim.remove_section("2")

    run = sync(sim_server, on_progress=remove_tv_after_its_first_page)
    assert run.status == SyncRun.Status.FAILED
    assert (
        run.error
        == f"Plex at {plex_sim.url}: not found (404) while reading /library/sections/2/all"
    )
    assert_nothing_lost(sim_server, stats)
    assert LibrarySection.objects.get(server=sim_server, key="2").removed_at is None


def test_a_crash_in_our_code_still_closes_the_run(sim_server, plex_sim, monkeypatch):
    # The one place a fake is fair: make the DB layer blow up to prove the run is closed.
    def boom(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("syncing.services.plex_sync.media_items_upsert_page", boom)
    run = sync(sim_server)
    assert run.status == SyncRun.Status.FAILED
    assert run.error == "Unexpected error (RuntimeError): disk full"
    assert not SyncRun.objects.filter(status=SyncRun.Status.RUNNING).exists()


# --- servers and sections -------------------------------------------------------------------


def test_two_servers_with_the_same_rating_keys_get_separate_items(sim_server, plex_library):
    other_library = generate_library(
        shows=2, seasons_per_show=1, episodes_per_season=2, movies=5, seed=7
    )
    with PlexSimulator(other_library, token="other") as other_sim:
        other = factories.plex_server(base_url=other_sim.url, token="other")
        assert sync(sim_server).status == sync(other).status == SyncRun.Status.SUCCESS
    first_key = plex_library.movies[0].rating_key
    assert first_key == other_library.movies[0].rating_key
    rows = MediaItem.objects.filter(plex_id=first_key)
    assert {(r.server_id, r.title) for r in rows} == {
        (sim_server.pk, plex_library.movies[0].title),
        (other.pk, other_library.movies[0].title),
    }
    assert MediaItem.objects.filter(server=other).count() == 5 + 2 + 2 + 4
    assert MediaItem.objects.filter(server=sim_server).count() == ITEMS
    other.refresh_from_db()
    assert other.machine_identifier == other_library.machine_identifier


def test_a_section_removed_between_runs(sim_server, plex_sim):
    sync(sim_server)
    plex_sim.remove_section("1")
    run = sync(sim_server)
    assert (run.status, run.items_gone) == (SyncRun.Status.SUCCESS, 20)
    movies = LibrarySection.objects.get(server=sim_server, key="1")
    assert movies.removed_at is not None
    assert MediaItem.objects.filter(section=movies, removed_at__isnull=True).count() == 0
    assert MediaItem.objects.filter(type="episode", removed_at__isnull=True).count() == 36


def test_excluded_sections_are_left_alone_and_new_ones_included(sim_server, plex_sim):
    sync(sim_server)
    LibrarySection.objects.filter(server=sim_server, key="1").update(included=False)
    plex_sim.remove_item(plex_sim.library.movies[0].rating_key)
    extra = generate_library(
        shows=1,
        seasons_per_show=1,
        episodes_per_season=2,
        movies=0,
        seed=5,
        start_rating_key=90_000,
    ).section("2")
    extra.key, extra.title = "7", "Anime"
    for show in extra.items:
        show.section_key = "7"
    plex_sim.add_section(extra)
    plex_sim.reset_requests()

    run = sync(sim_server)
    assert run.status == SyncRun.Status.SUCCESS and run.items_gone == 0
    assert not plex_sim.requests_to("/library/sections/1/all")
    assert run.items_seen == 6 + 12 + 36 + 1 + 1 + 2
    anime = LibrarySection.objects.get(server=sim_server, key="7")
    assert (anime.title, anime.section_type, anime.included) == ("Anime", "show", True)
    assert MediaItem.objects.filter(section=anime).count() == 1 + 1 + 2
    assert not MediaItem.objects.filter(removed_at__isnull=False).exists()


def test_a_running_sync_is_refused(sim_server):
    run_queue(kind=SyncRun.Kind.PLEX, target=sim_server)
    with pytest.raises(SyncAlreadyRunning):
        plex_library_sync(server=sim_server)


def test_a_queued_run_is_executed_in_place_once(sim_server):
    queued = run_queue(kind=SyncRun.Kind.PLEX, target=sim_server, trigger="admin")
    run = run_execute(queued)
    assert run.pk == queued.pk and SyncRun.objects.count() == 1
    queued.refresh_from_db()
    assert (queued.status, queued.items_created, queued.trigger) == ("success", ITEMS, "admin")
    with pytest.raises(SyncAlreadyRunning):  # a run is executed once
        run_execute(queued)


def test_sync_all_runs_every_enabled_server_despite_failures(sim_server, plex_sim):
    broken = factories.plex_server(name="Broken", base_url=plex_sim.url, token="nope")
    disabled = factories.plex_server(
        name="Off", base_url=plex_sim.url, token=SIM_TOKEN, enabled=False
    )
    runs = sync_all(trigger="schedule", kinds=["plex"])
    by_server = {r.plex_server_id: r for r in runs}
    assert set(by_server) == {sim_server.pk, broken.pk}
    assert by_server[broken.pk].status == SyncRun.Status.FAILED
    assert by_server[sim_server.pk].status == SyncRun.Status.SUCCESS
    assert by_server[sim_server.pk].trigger == "schedule"
    assert not MediaItem.objects.filter(server=disabled).exists()


def test_awkward_characters_survive_the_bulk_write(sim_server, plex_sim, plex_library):
    """Tabs, newlines, backslashes, quotes and non-ASCII go through COPY on PostgreSQL."""
    sync(sim_server)
    movie = plex_library.movies[2]
    awkward = "Tab\there, new\nline, back\\slash \\N, \"quotes\", 'single', Amélie 東京"
    plex_sim.rename(movie.rating_key, awkward)
    run = sync(sim_server)
    assert (run.items_created, run.items_updated) == (0, 1)
    assert row(sim_server, movie.rating_key).title == awkward
    assert sync(sim_server).items_updated == 0  # read back equal: no change seen again
