"""The demo's Radarr and Sonarr: sync_all links them to the demo library by path, so a new
user sees groups that go through Radarr/Sonarr and groups that go through Plex."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from deletion.models import DeletionRequest, Level
from deletion.removal import removal_route
from syncing.models import ArrEpisode, ArrItem, SyncRun
from tests.demo_helpers import SMALL

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    from simulators.demo import demo_start

    demo = demo_start(size=SMALL, seed=3)
    for name, value in demo.env().items():
        setattr(settings, name, value)
    yield demo
    demo.stop()


def test_sync_all_links_the_demo_radarr_and_sonarr_by_path(demo):
    call_command("sync_all")
    arr_runs = SyncRun.objects.filter(kind="arr")
    assert sorted(arr_runs.values_list("status", flat=True)) == ["success", "success"]
    movies = ArrItem.objects.filter(kind="movie")
    assert movies.count() == len(demo.radarr.movies) == SMALL.movies - SMALL.movies // 10
    with_file = movies.filter(file_id__isnull=False)
    assert set(with_file.values_list("matched_by", flat=True)) == {"path"}
    assert ArrEpisode.objects.filter(file_id__isnull=False, media_item__isnull=True).count() == 0
    radarr_run = arr_runs.get(arr_server__kind="radarr")
    assert radarr_run.details["unmatched_in_plex"]["count"] == SMALL.movies // 10


def test_a_demo_movie_routes_through_radarr_and_another_through_plex(demo):
    call_command("sync_all")
    held = ArrItem.objects.filter(kind="movie", matched_by="path").select_related("media_item")[0]
    outside = demo.library.movies[9]  # every tenth movie is in no Radarr
    plex = held.media_item.server
    routes = [
        removal_route(request=DeletionRequest(server=plex, level=Level.MOVIE, plex_id=key))
        for key in (held.media_item.plex_id, outside.rating_key)
    ]
    assert [r.system for r in routes] == ["radarr", "plex"]


def test_demo_groups_deleted_through_radarr_and_sonarr_leave_plex_after_its_scan(demo, admin_user):
    """The demo's Plex scans the folder SmartPlex asks it to, as PMS does with "empty trash
    after every scan" (its default): what Radarr/Sonarr deleted leaves the library, so a
    deleted group is no longer a candidate after the next sync."""
    from deletion.config import deletion_settings_set
    from deletion.execution import deletion_execute
    from deletion.services import candidates_approve
    from media.models import MediaItem, PlexServer

    call_command("sync_all")
    deletion_settings_set(dry_run=False, max_groups=50, max_gb=100_000, leaving_soon_days=0)
    show = demo.library.shows[0]  # Sonarr holds it (every eighth show is outside)
    season = next(s for s in show.seasons if s.episodes and all(e.media for e in s.episodes))
    movie = next(m for m in demo.library.movies[:9] if m.media)  # Radarr holds it
    plex = PlexServer.objects.get()
    refs = [(Level.SEASON, plex.pk, season.rating_key), (Level.MOVIE, plex.pk, movie.rating_key)]
    assert candidates_approve(refs=refs, user=admin_user).done
    deletion_execute(user=admin_user)
    assert set(DeletionRequest.objects.values_list("status", flat=True)) == {"deleted"}
    call_command("sync_plex")
    left = MediaItem.objects.filter(removed_at__isnull=True)
    assert not left.filter(parent_plex_id=season.rating_key).exists()
    assert not left.filter(plex_id__in=[season.rating_key, movie.rating_key]).exists()
    assert left.filter(grandparent_plex_id=show.rating_key).exists()  # its other seasons stay
