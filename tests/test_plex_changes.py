"""`sync_plex --changed`: the light Plex sync against the simulator (requests and items
counted), its cursor, its schedule, and its exclusion with the full sync."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from deletion.selectors import group_stats_get
from media.models import MediaItem
from syncing.models import SyncRun
from syncing.runs import run_queue
from syncing.services.plex_changes import plex_changes_all, plex_changes_run
from syncing.services.plex_sync import plex_library_sync
from syncing.services.schedules import PLEX_CHANGES_FUNC, PLEX_CHANGES_SCHEDULE, schedules_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(sim_server, plex_sim):
    run = plex_library_sync(server=sim_server, trigger="test")
    assert run.status == SyncRun.Status.SUCCESS
    plex_sim.reset_requests()
    plex_sim.items_served = 0
    return sim_server


def light(server) -> SyncRun:
    run = plex_changes_run(server=server, trigger="test")
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCESS, run.error
    return run


def synced_at(server) -> dict[int, object]:
    return dict(MediaItem.objects.filter(server=server).values_list("plex_id", "plex_synced_at"))


def test_changed_fetches_only_changed_items_and_leaves_the_rest_untouched(
    synced, plex_sim, plex_library
):
    before = synced_at(synced)
    show = plex_library.shows[1]
    episode = show.seasons[0].episodes[0]
    plex_sim.update_item(episode.rating_key, size=99_000_000_000)
    movie = plex_sim.add_movie("Arrived This Morning")
    added = plex_sim.add_episodes(plex_library.shows[3].seasons[1].rating_key, 2)
    out = io.StringIO()
    call_command("sync_plex", "--changed", stdout=out, stderr=io.StringIO())
    run = SyncRun.objects.get(kind=SyncRun.Kind.PLEX_CHANGES)
    assert (run.items_created, run.items_updated) == (3, 1)
    assert "3 created, 1 updated, 0 gone" in out.getvalue()
    # GET /, /library, /library/sections, then one per listing (type x updatedAt/addedAt)
    assert len(plex_sim.requests_to("/library/sections/")) == 2 + 6
    assert len(plex_sim.requests) == run.requests_made == 3 + 2 + 6
    assert run.details["sections"] == {
        "Movies": {"requests": 2, "items": 1},
        "TV Shows": {"requests": 6, "items": 3},
    }
    assert plex_sim.items_served == 2 * 1 + 3 + 2  # the added ones come back in both listings
    after = synced_at(synced)
    touched = {episode.rating_key, movie.rating_key, *(e.rating_key for e in added)}
    assert {k for k in after if after[k] != before.get(k)} == touched
    group = group_stats_get(refs=[("show", synced.pk, show.rating_key)])
    expected = sum(
        p.size for e in show.episodes() for m in e.media for p in m.parts
    )  # the simulator's truth, with the new size
    assert next(iter(group.values())).size == expected


def test_a_deletion_is_seen_by_the_next_full_sync_never_by_a_light_one(
    synced, plex_sim, plex_library
):
    movie = plex_library.movies[4]
    plex_sim.remove_item(movie.rating_key)
    light(synced)
    assert MediaItem.objects.get(server=synced, plex_id=movie.rating_key).removed_at is None
    plex_library_sync(server=synced, trigger="test")
    assert MediaItem.objects.get(server=synced, plex_id=movie.rating_key).removed_at is not None


def test_cursor_starts_from_the_last_run_minus_the_overlap(synced, plex_sim, settings):
    full = SyncRun.objects.get(kind=SyncRun.Kind.PLEX)
    first = light(synced)
    overlap = settings.PLEX_CHANGES_OVERLAP_SECONDS
    assert first.details["since"] == int(full.started_at.timestamp()) - overlap
    second = light(synced)
    assert second.details["since"] == first.cursor["started"] - overlap
    assert second.cursor["started"] >= first.cursor["started"]


def test_first_light_sync_without_any_full_sync_reads_everything(sim_server, plex_sim):
    run = light(sim_server)
    assert run.details["since"] == 0
    assert run.items_created == MediaItem.objects.filter(server=sim_server).count() == 74
    assert run.items_gone == 0


def test_light_sync_never_runs_alongside_a_full_sync(synced, plex_sim):
    holder = run_queue(kind=SyncRun.Kind.PLEX, target=synced, trigger="test")
    plex_sim.add_movie("Must Wait")
    out = io.StringIO()
    call_command("sync_plex", "--changed", stdout=out, stderr=io.StringIO())
    assert "light sync skipped" in out.getvalue() and f"run #{holder.pk}" in out.getvalue()
    assert plex_changes_all(trigger="schedule") == []
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.PLEX_CHANGES).exists()
    assert plex_sim.requests_to("/library") == []


def test_light_schedule_is_declared_once_and_follows_its_setting(settings):
    schedules_ensure()
    schedules_ensure()
    schedule = Schedule.objects.get(name=PLEX_CHANGES_SCHEDULE)
    assert (schedule.func, schedule.minutes, schedule.repeats) == (PLEX_CHANGES_FUNC, 15, -1)
    assert schedule.next_run <= timezone.now() + timedelta(minutes=15)
    settings.PLEX_CHANGES_MINUTES = 5
    call_command("migrate", verbosity=0)
    assert Schedule.objects.get(name=PLEX_CHANGES_SCHEDULE).minutes == 5
    settings.PLEX_CHANGES_MINUTES = 0
    schedules_ensure()
    assert not Schedule.objects.filter(name=PLEX_CHANGES_SCHEDULE).exists()
