"""Execution under real timing and crashes: fresh Tautulli history right before each
removal, Plex's sessions, runs left behind by a dead worker, and one group's error.

Plex and Tautulli are the simulators over HTTP; the Tautulli simulator gets its plays
while the test runs (no sync, no webhook), as a real one would.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deletion.config import deletion_settings_set
from deletion.execution import deletion_execute
from deletion.models import AuditLog, DeletionRequest, DeletionRun, Level
from deletion.selectors import default_rule_get
from deletion.services import candidates_approve
from media.models import MediaItem
from simulators.library import generate_library
from simulators.plex import PlexSimulator
from simulators.tautulli import TautulliSimulator
from syncing.services.plex_sync import plex_library_sync
from tests import factories
from tests.deletion_fixtures import history_synced
from tests.tautulli_helpers import target_of

pytestmark = pytest.mark.django_db

Status = DeletionRequest.Status


@pytest.fixture
def plex():
    library = generate_library(shows=2, seasons_per_show=2, episodes_per_season=2, movies=3)
    with PlexSimulator(library, token="sim-token") as simulator:
        yield simulator


@pytest.fixture
def tautulli(settings):
    settings.TAUTULLI_BACKOFF = 0
    settings.TAUTULLI_TIMEOUT = 2
    with TautulliSimulator(api_key="sim-tautulli-key") as simulator:
        yield simulator


@pytest.fixture
def server(plex, tautulli):
    """The Plex library mirrored, old and unwatched; its Tautulli synced (no plays yet)."""
    server = factories.plex_server(base_url=plex.url, token="sim-token")
    assert plex_library_sync(server=server, trigger="test").status == "success"
    history_synced(server, base_url=tautulli.url, api_key=tautulli.api_key)
    return server


@pytest.fixture
def live():
    deletion_settings_set(dry_run=False, max_groups=25, max_gb=100_000)


def approve(server, user, level: str, key: int, *, by_hand: bool = False) -> DeletionRequest:
    rule = None if by_hand else default_rule_get()
    result = candidates_approve(refs=[(level, server.pk, key)], user=user, rule=rule)
    assert result.done, result.refused
    return DeletionRequest.objects.get(server=server, plex_id=key, status=Status.APPROVED)


def play(tautulli, server, key: int, *, started, minutes: int = 30) -> None:
    """Tautulli records a play of item `key` (as it does when the stream stops)."""
    item = MediaItem.objects.get(server=server, plex_id=key)
    tautulli.add_play(target=target_of(item), started=started, play_seconds=minutes * 60)


# --- fresh history ---------------------------------------------------------------------------


def test_movie_played_a_minute_after_approval_is_not_deleted(
    plex, tautulli, server, admin_user, live
):
    movie = plex.library.movies[0]
    request = approve(server, admin_user, Level.MOVIE, movie.rating_key)
    play(tautulli, server, movie.rating_key, started=request.approved_at + timedelta(minutes=1))

    result = deletion_execute(user=admin_user)

    assert plex.requests_to("/library/metadata", "DELETE") == []
    request.refresh_from_db()
    assert request.status == Status.SKIPPED
    assert "Played since approval according to Tautulli" in request.error
    skip = AuditLog.objects.get(request=request, action=AuditLog.Action.SKIP)
    assert skip.message == request.error and result.run.skipped == 1
    asked = [r for r in tautulli.requests if r.get("cmd") == "get_history"]
    assert [r["rating_key"] for r in asked] == [str(movie.rating_key)]


def test_play_of_an_episode_keeps_its_show_and_season(plex, tautulli, server, admin_user, live):
    show, other = plex.library.shows
    episode, season_key = show.seasons[1].episodes[0], other.seasons[0].rating_key
    show_request = approve(server, admin_user, Level.SHOW, show.rating_key)
    season_request = approve(server, admin_user, Level.SEASON, season_key)
    play(tautulli, server, episode.rating_key, started=timezone.now())

    deletion_execute(user=admin_user)

    show_request.refresh_from_db()
    season_request.refresh_from_db()
    assert show_request.status == Status.SKIPPED and "Played since approval" in show_request.error
    assert season_request.status == Status.DELETED  # another show's play is not this season's
    assert plex.deleted == [season_key]
    asked = {
        k: v
        for r in tautulli.requests
        if r.get("cmd") == "get_history"
        for k, v in r.items()
        if k.endswith("rating_key")
    }
    assert asked == {
        "grandparent_rating_key": str(show.rating_key),
        "parent_rating_key": str(season_key),
    }


def test_play_started_before_a_manual_approval_but_stopped_after_counts(
    plex, tautulli, server, admin_user, live
):
    movie = plex.library.movies[1]
    request = approve(server, admin_user, Level.MOVIE, movie.rating_key, by_hand=True)
    started = request.approved_at - timedelta(minutes=50)
    play(tautulli, server, movie.rating_key, started=started, minutes=60)  # stops 10 min after

    deletion_execute(user=admin_user)

    request.refresh_from_db()
    assert request.status == Status.SKIPPED and "Played since approval" in request.error
    assert plex.deleted == []


def test_plays_before_approval_do_not_block(plex, tautulli, server, admin_user, live):
    movie = plex.library.movies[2]
    old = timezone.now() - timedelta(days=400)
    play(tautulli, server, movie.rating_key, started=old)
    request = approve(server, admin_user, Level.MOVIE, movie.rating_key, by_hand=True)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.DELETED and plex.deleted == [movie.rating_key]


def test_tautulli_down_at_execution_deletes_nothing(plex, tautulli, server, admin_user, live):
    requests = [approve(server, admin_user, Level.MOVIE, m.rating_key) for m in plex.library.movies]
    tautulli.stop()

    result = deletion_execute(user=admin_user)

    assert plex.requests_to("/library/metadata", "DELETE") == []
    for request in requests:
        request.refresh_from_db()
        assert request.status == Status.SKIPPED
        assert request.error.startswith("Could not confirm it is unwatched")
    assert result.run.skipped == 3 and result.run.deleted == 0


def test_tautulli_error_answer_deletes_nothing(plex, tautulli, server, admin_user, live):
    request = approve(server, admin_user, Level.MOVIE, plex.library.movies[0].rating_key)
    tautulli.fault(status=500, cmd="get_history", count=None)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.SKIPPED and "Could not confirm" in request.error
    assert plex.deleted == [] and tautulli.api_key not in request.error


def test_playing_now_in_plex_is_still_checked(plex, tautulli, server, admin_user, live):
    show = plex.library.shows[0]
    request = approve(server, admin_user, Level.SHOW, show.rating_key)
    plex.playing.append(show.seasons[0].episodes[1].rating_key)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.SKIPPED and "played right now" in request.error
    assert plex.deleted == []


# --- crashes ---------------------------------------------------------------------------------


def _stranded_run(*requests: DeletionRequest) -> DeletionRun:
    """What a worker killed mid-execution leaves: a running run with an old heartbeat and
    requests it claimed (running) without an outcome."""
    long_ago = timezone.now() - timedelta(hours=3)
    run = DeletionRun.objects.create(dry_run=False, total=len(requests))
    DeletionRun.objects.filter(pk=run.pk).update(started_at=long_ago, heartbeat_at=long_ago)
    DeletionRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        status=Status.RUNNING, run=run
    )
    return run


def test_worker_killed_mid_execution_is_recovered_from_what_plex_says(
    plex, tautulli, server, admin_user, live
):
    gone_movie, kept_movie, _ = plex.library.movies
    gone = approve(server, admin_user, Level.MOVIE, gone_movie.rating_key)
    kept = approve(server, admin_user, Level.MOVIE, kept_movie.rating_key)
    dead = _stranded_run(gone, kept)
    plex.remove_item(gone_movie.rating_key)  # its DELETE reached Plex before the worker died

    result = deletion_execute(user=admin_user)

    dead.refresh_from_db()
    assert dead.status == DeletionRun.Status.FAILED and "Stale" in dead.error
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert gone.status == Status.DELETED and gone.executed_at is not None
    assert MediaItem.objects.get(plex_id=gone_movie.rating_key).removed_at is not None
    assert kept.status == Status.DELETED and kept.run_id == result.run.pk  # checked, then done
    assert plex.deleted == [kept_movie.rating_key]
    assert not DeletionRequest.objects.filter(status__in=[Status.RUNNING, Status.NEEDS_CHECK])
    messages = AuditLog.objects.filter(request=gone).values_list("message", flat=True)
    assert any("gone from Plex, recorded as deleted" in m for m in messages)


def test_stranded_request_waits_when_plex_cannot_answer(plex, tautulli, server, admin_user):
    request = approve(server, admin_user, Level.MOVIE, plex.library.movies[0].rating_key)
    _stranded_run(request)
    plex.fail_on("/library/metadata", status=503)
    deletion_execute(user=admin_user)
    request.refresh_from_db()
    assert request.status == Status.NEEDS_CHECK and "asked on the next run" in request.error
    plex.clear_faults()
    deletion_execute(user=admin_user)  # dry run: back to approved, would delete
    request.refresh_from_db()
    assert request.status == Status.APPROVED and plex.deleted == []


def test_queue_page_does_not_wait_for_a_dead_run(plex, tautulli, server, admin_user, client):
    request = approve(server, admin_user, Level.MOVIE, plex.library.movies[0].rating_key)
    _stranded_run(request)
    client.force_login(admin_user)
    page = client.get(reverse("deletion:queue"))
    html = page.content.decode()
    assert page.context["running"] is False and page.context["stale"] is True
    assert 'http-equiv="refresh"' not in html and 'data-testid="stale-run"' in html
    assert "disabled" not in html.split('type="submit"')[1].split(">")[0]


def test_an_error_in_one_group_is_that_groups_failure(plex, tautulli, server, admin_user, live):
    broken = approve(server, admin_user, Level.MOVIE, plex.library.movies[0].rating_key)
    fine = approve(server, admin_user, Level.MOVIE, plex.library.movies[1].rating_key)
    DeletionRequest.objects.filter(pk=broken.pk).update(level="track")  # corrupt row

    result = deletion_execute(user=admin_user)

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.status == Status.FAILED and broken.error.startswith("Unexpected error")
    assert fine.status == Status.DELETED
    assert result.run.status == DeletionRun.Status.DONE and result.run.failed == 1
    assert not DeletionRequest.objects.filter(status=Status.RUNNING).exists()


# --- overlapping approvals -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [("show", "episode"), ("episode", "show"), ("season", "episode"), ("show", "season")],
)
def test_approving_inside_or_above_an_open_request_is_refused(
    plex, server, admin_user, first, second
):
    show = plex.library.shows[0]
    season = show.seasons[0]
    keys = {"show": show.rating_key, "season": season.rating_key}
    keys["episode"] = season.episodes[0].rating_key
    approve(server, admin_user, first, keys[first], by_hand=True)

    result = candidates_approve(
        refs=[(second, server.pk, keys[second])], user=admin_user, rule=None
    )

    assert result.done == [] and "overlaps the approved" in result.refused[0]
    assert DeletionRequest.objects.count() == 1


def test_approving_the_same_group_twice_says_already_approved(plex, server, admin_user):
    movie = plex.library.movies[0].rating_key
    approve(server, admin_user, Level.MOVIE, movie, by_hand=True)
    result = candidates_approve(refs=[(Level.MOVIE, server.pk, movie)], user=admin_user, rule=None)
    assert "already approved" in result.refused[0]
