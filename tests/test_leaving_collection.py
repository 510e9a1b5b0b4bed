"""The "Leaving soon" collection in the Plex simulator, driven through plexapi: created on
approval, kept by difference, emptied by execution, re-created when deleted in Plex, and
never touching another collection."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from deletion.collections import leaving_collections_update
from deletion.config import deletion_settings_set
from deletion.lifecycle import request_cancel
from deletion.models import DeletionRequest, LeavingCollection, Level
from deletion.selectors import default_rule_get
from deletion.services import candidates_approve
from media.models import MediaItem
from simulators.library import generate_library
from simulators.plex import PlexSimulator
from simulators.tautulli import TautulliSimulator
from syncing.runs import run_now
from syncing.services.plex_sync import plex_library_sync
from tests import factories
from tests.deletion_fixtures import history_synced
from tests.tautulli_helpers import target_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim():
    library = generate_library(shows=2, seasons_per_show=2, episodes_per_season=2, movies=5)
    with PlexSimulator(library, token="tok") as simulator:
        yield simulator


@pytest.fixture
def tautulli(settings):
    settings.TAUTULLI_BACKOFF = 0
    with TautulliSimulator(api_key="sim-tautulli-key") as simulator:
        yield simulator


@pytest.fixture
def server(sim, tautulli):
    server = factories.plex_server(base_url=sim.url, token="tok")
    assert plex_library_sync(server=server, trigger="test").status == "success"
    history_synced(server, base_url=tautulli.url, api_key=tautulli.api_key)
    return server


@pytest.fixture
def week():
    deletion_settings_set(dry_run=False, max_groups=25, max_gb=100_000, leaving_soon_days=7)


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run what is fired after commit (the collection task) at the end of each block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _approve(server, user, refs) -> None:
    refs = [(level, server.pk, key) for level, key in refs]
    assert len(candidates_approve(refs=refs, user=user, rule=default_rule_get()).done) == len(refs)


def _leaving(sim, section_key: str):
    row = LeavingCollection.objects.get(section__key=section_key)
    return sim.collections.get(row.plex_key)


def _execute() -> str:
    out = StringIO()
    call_command("execute_deletions", stdout=out)
    return out.getvalue()


def test_three_approved_movies_leave_through_the_collection(
    sim, tautulli, server, admin_user, week, run_tasks
):
    movies = sim.library.movies[:3]
    section = movies[0].section_key
    with run_tasks():
        _approve(server, admin_user, [(Level.MOVIE, m.rating_key) for m in movies])
    collection = _leaving(sim, section)
    assert sorted(collection.items) == sorted(m.rating_key for m in movies)
    assert collection.title == "Leaving soon" and collection.title_sort == "!!! Leaving soon"
    assert all(m.title in collection.summary for m in movies) and "leaves" in collection.summary
    assert collection.hub is None  # not promoted to Home: off by default

    assert "Nothing is due." in _execute()
    with run_tasks(), time_machine.travel(timezone.now() + timedelta(days=8)):
        assert "3 deleted" in _execute()
    assert _leaving(sim, section).items == []


def test_a_play_on_day_3_takes_the_group_out_of_the_collection(
    sim, tautulli, server, admin_user, week, run_tasks
):
    movies = sim.library.movies[:3]
    old = MediaItem.objects.get(server=server, plex_id=sim.library.movies[4].rating_key)
    tautulli.add_play(target=target_of(old), started=timezone.now() - timedelta(days=900))
    with run_tasks():
        _approve(server, admin_user, [(Level.MOVIE, m.rating_key) for m in movies])
    played = MediaItem.objects.get(server=server, plex_id=movies[0].rating_key)
    day3 = timezone.now() + timedelta(days=3)
    with run_tasks(), time_machine.travel(day3):
        tautulli.add_play(target=target_of(played), started=day3 - timedelta(hours=2))
        run = run_now(kind="tautulli", target=server.tautulli_servers.get(), trigger="test")
        assert run.status == "success", run.error
    assert sorted(_leaving(sim, movies[0].section_key).items) == sorted(
        m.rating_key for m in movies[1:]
    )
    with run_tasks(), time_machine.travel(timezone.now() + timedelta(days=8)):
        assert "2 deleted" in _execute()
    assert movies[0].rating_key not in sim.deleted


def test_deleted_in_plex_it_is_re_created_and_other_collections_are_never_touched(
    sim, server, admin_user, week, run_tasks
):
    movies = sim.library.movies
    section = movies[0].section_key
    favourites = sim.collection_add(section, "Favourites", [movies[0].rating_key])
    with run_tasks():
        _approve(server, admin_user, [(Level.MOVIE, movies[0].rating_key)])
    first = LeavingCollection.objects.get(section__key=section).plex_key
    sim.collection_delete(first)
    sim.reset_requests()
    leaving_collections_update()
    again = _leaving(sim, section)
    assert again.rating_key != first and again.items == [movies[0].rating_key]
    assert LeavingCollection.objects.get(section__key=section).plex_key == again.rating_key
    assert favourites.items == [movies[0].rating_key] and favourites.title == "Favourites"
    touched = [r.path for r in sim.requests if str(favourites.rating_key) in r.path]
    assert touched == [] and len(sim.collections) == 2


def test_kept_by_difference_and_cancel_removes_one(sim, server, admin_user, week, run_tasks):
    movies = sim.library.movies[:3]
    with run_tasks():
        _approve(server, admin_user, [(Level.MOVIE, m.rating_key) for m in movies])
    sim.reset_requests()
    with run_tasks():
        request_cancel(request=DeletionRequest.objects.get(plex_id=movies[1].rating_key), user=None)
    assert sorted(_leaving(sim, movies[0].section_key).items) == sorted(
        [movies[0].rating_key, movies[2].rating_key]
    )
    assert len(sim.requests_to("/library/collections", "DELETE")) == 1
    assert sim.requests_to("/library/collections", "POST") == []
    assert sim.requests_to("/library/collections", "PUT") == []


def test_a_season_puts_its_show_in_the_tv_collection_and_visibility_follows_the_setting(
    sim, server, admin_user, week, run_tasks
):
    show = sim.library.shows[0]
    deletion_settings_set(collection_visible=True, collection_title="Bye soon")
    with run_tasks():
        _approve(server, admin_user, [(Level.SEASON, show.seasons[1].rating_key)])
    collection = _leaving(sim, show.section_key)
    assert collection.items == [show.rating_key] and collection.title == "Bye soon"
    assert DeletionRequest.objects.get().title in collection.summary
    assert collection.hub == dict.fromkeys(
        ["promotedToRecommended", "promotedToOwnHome", "promotedToSharedHome"], True
    )


def test_plex_down_is_recorded_and_never_raises(sim, server, admin_user, week, run_tasks):
    movie = sim.library.movies[0]
    sim.fail_on("/library/collections", status=500, method="POST")
    with run_tasks():
        _approve(server, admin_user, [(Level.MOVIE, movie.rating_key)])
    row = LeavingCollection.objects.get(section__key=movie.section_key)
    assert row.plex_key is None and "500" in row.error
    sim.clear_faults()
    leaving_collections_update()
    row.refresh_from_db()
    assert row.error == "" and sim.collections[row.plex_key].items == [movie.rating_key]


def test_a_stored_key_that_is_now_another_sections_collection_is_left_alone(
    sim, server, admin_user, week, run_tasks
):
    """A Plex reinstalled (or the demo restarted) numbers its items again, so the key stored
    for the Movies collection can name a TV collection: that one is never touched, and the
    Movies collection is made anew (adding movies to it failed: "answered an error")."""
    movie, show = sim.library.movies[0], sim.library.shows[0]
    kids = sim.collection_add(show.section_key, "Kids", [show.rating_key])
    section = server.sections.get(key=movie.section_key)
    LeavingCollection.objects.create(section=section, plex_key=kids.rating_key)
    with run_tasks():
        _approve(server, admin_user, [(Level.MOVIE, movie.rating_key)])
    row = LeavingCollection.objects.get(section=section)
    assert row.error == "" and row.plex_key != kids.rating_key
    assert sim.collections[row.plex_key].items == [movie.rating_key]
    assert kids.items == [show.rating_key] and kids.title == "Kids"
