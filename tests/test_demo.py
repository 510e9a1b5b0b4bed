"""Demo: the bundled simulators with a small generated library, synced end to end by
`sync_all` through the real Plex and Tautulli clients."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Min, Sum
from django.utils import timezone

from dashboard.demo import DEMO_RULE
from dashboard.models import StorageSnapshot
from dashboard.selectors import dashboard_get
from deletion.groups import CandidateFilter
from deletion.history import history_state_get
from deletion.models import DeletionRule, Level
from deletion.planner import reclaimable_get
from deletion.selectors import candidate_page_get
from media.models import MediaItem
from simulators.demo import DemoSize, demo_start
from syncing.models import Play, SeerrRequest, SyncRun
from tests.demo_helpers import SMALL

pytestmark = pytest.mark.django_db

STORY = DemoSize(shows=40, seasons_per_show=3, episodes_per_season=6, movies=60, users=6, days=1000)


@pytest.fixture
def demo(settings):
    demo = demo_start(size=SMALL, seed=3)
    env = demo.env()
    settings.PLEX_URL, settings.PLEX_TOKEN = env["PLEX_URL"], env["PLEX_TOKEN"]
    settings.TAUTULLI_URL, settings.TAUTULLI_API_KEY = env["TAUTULLI_URL"], env["TAUTULLI_API_KEY"]
    yield demo
    demo.stop()


def test_sync_all_mirrors_the_demo_library_and_its_history(demo, capsys):
    call_command("sync_all")

    runs = list(SyncRun.objects.order_by("started_at"))
    assert [(r.kind, r.status) for r in runs] == [("plex", "success"), ("tautulli", "success")]
    expected = {
        "movie": SMALL.movies,
        "show": SMALL.shows,
        "season": SMALL.shows * SMALL.seasons_per_show,
        "episode": SMALL.shows * SMALL.seasons_per_show * SMALL.episodes_per_season,
    }
    for media_type, count in expected.items():
        assert MediaItem.objects.filter(type=media_type, removed_at__isnull=True).count() == count

    assert Play.objects.count() == len(demo.tautulli.history) > 0
    assert runs[1].unmatched == 0
    played = MediaItem.objects.filter(total_play_count__gt=0)
    assert played.exists()
    assert not played.filter(type__in=["show", "season"]).exists()  # stats live on leaves
    # Every stored play is reflected in exactly one item's watch time.
    assert (
        played.aggregate(s=Sum("total_watch_time_seconds"))["s"]
        == Play.objects.aggregate(s=Sum("play_duration"))["s"]
    )
    assert MediaItem.objects.filter(tautulli_synced_at__isnull=True).count() == 0
    out = capsys.readouterr().out
    assert "Plex library" in out and "success" in out
    assert demo.plex.token not in out and demo.tautulli.api_key not in out


def test_second_sync_all_changes_nothing(demo):
    call_command("sync_all")
    before = list(
        MediaItem.objects.order_by("pk").values_list(
            "pk", "total_play_count", "total_watch_time_seconds", "last_watched_at"
        )
    )
    call_command("sync_all")
    after = list(
        MediaItem.objects.order_by("pk").values_list(
            "pk", "total_play_count", "total_watch_time_seconds", "last_watched_at"
        )
    )
    assert after == before
    assert SyncRun.objects.filter(status="success").count() == 4


@pytest.fixture
def story_demo(settings):
    demo = demo_start(size=STORY, seed=5)
    env = demo.env()
    settings.PLEX_URL, settings.PLEX_TOKEN = env["PLEX_URL"], env["PLEX_TOKEN"]
    settings.TAUTULLI_URL, settings.TAUTULLI_API_KEY = env["TAUTULLI_URL"], env["TAUTULLI_API_KEY"]
    yield demo
    demo.stop()


def test_the_demo_tells_a_real_servers_story(story_demo, capsys):
    """History over most of the library's life, abandoned shows and seasons in progress
    (candidates at both levels), a few items older than the history, months of storage
    snapshots and a disk over its threshold."""
    call_command("sync_all")
    call_command("demo_setup")
    history = history_state_get()
    server_id = next(iter(history.eligible_server_ids))
    first_added = MediaItem.objects.aggregate(first=Min("added_at"))["first"]
    started = history.history_start[server_id]
    assert timedelta(days=60) < started - first_added < timedelta(days=200)
    reclaim = reclaimable_get()
    assert reclaim[Level.SHOW][0] >= 3 and reclaim[Level.SEASON][0] > reclaim[Level.SHOW][0]
    rule = DeletionRule.objects.get(name=DEMO_RULE)
    shows = candidate_page_get(f=CandidateFilter(rule=rule, group_by="show"), per_page=200)
    watched_long_ago = [c for c in shows.rows if c.last_watched is not None]
    assert watched_long_ago and any(c.days_since_watched > 180 for c in watched_long_ago)
    assert sum(c.watch_is_assumed for c in shows.rows) < len(shows.rows) / 2
    assert StorageSnapshot.objects.filter(taken_at__lt=timezone.now() - timedelta(days=90)).exists()
    dashboard = dashboard_get()
    assert dashboard.projection.state == "filling"
    assert dashboard.threshold.over and dashboard.threshold.plan["groups"] > 0
    assert "threshold crossed" in capsys.readouterr().out


def test_demo_requests_come_from_several_users_and_link_to_the_library(demo, settings):
    settings.SEERR_URL, settings.SEERR_API_KEY = (
        demo.env()["SEERR_URL"],
        demo.env()["SEERR_API_KEY"],
    )
    call_command("sync_all")

    assert SyncRun.objects.get(kind="seerr").status == "success"
    requests = SeerrRequest.objects.all()
    assert requests.count() == SMALL.requests
    assert requests.values("requester_email").distinct().count() > 1
    assert not requests.filter(plex_id__isnull=True).exists()  # every request is in the library
    linked = requests.filter(tautulli_user__isnull=False)
    assert linked.exists() and linked.exclude(requester_plex_username__startswith="user").exists()
