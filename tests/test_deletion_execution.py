"""Approve → execute against the Plex simulator over HTTP: deletes, skips, failures, dry run."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deletion.config import deletion_settings_set
from deletion.execution import deletion_execute, execution_preflight
from deletion.models import AuditLog, DeletionRequest, Exclusion, Level
from deletion.selectors import default_rule_get
from deletion.services import candidates_approve, groups_protect
from media.models import MediaItem
from simulators.library import generate_library
from simulators.plex import PlexSimulator
from simulators.tautulli import TautulliSimulator
from syncing.services.plex_sync import plex_library_sync
from tests import factories
from tests.deletion_fixtures import days_ago, history_synced

pytestmark = pytest.mark.django_db

Status = DeletionRequest.Status


@pytest.fixture
def sim():
    library = generate_library(shows=3, seasons_per_show=2, episodes_per_season=3, movies=4)
    with PlexSimulator(library, token="sim-token") as simulator:
        yield simulator


@pytest.fixture
def tautulli(settings):
    """The Tautulli that execution asks for fresh history (no plays: nothing new)."""
    settings.TAUTULLI_BACKOFF = 0
    with TautulliSimulator(api_key="sim-tautulli-key") as simulator:
        yield simulator


@pytest.fixture
def server(sim, tautulli):
    """The simulator's library mirrored by the real Plex sync (over HTTP), with a synced
    Tautulli history: its items are old and unwatched, so every group is a candidate."""
    server = factories.plex_server(base_url=sim.url, token="sim-token")
    run = plex_library_sync(server=server, trigger="test")
    assert run.status == "success", run.error
    history_synced(server, base_url=tautulli.url, api_key=tautulli.api_key)
    return server


@pytest.fixture
def live():
    deletion_settings_set(dry_run=False, max_groups=25, max_gb=100_000)


@pytest.fixture
def admin(admin_user):
    return admin_user


def _approve(server, admin, level: str, key: int):
    result = candidates_approve(refs=[(level, server.pk, key)], user=admin, rule=default_rule_get())
    assert result.done, result.refused
    return DeletionRequest.objects.get(server=server, plex_id=key)


def test_show_deletion_reaches_plex_at_show_level_and_marks_items_gone(sim, server, admin, live):
    show = sim.library.shows[0]
    request = _approve(server, admin, Level.SHOW, show.rating_key)
    assert request.item_count == 6 and request.status == Status.APPROVED

    result = deletion_execute(user=admin)

    assert [r.path for r in sim.requests_to("/library/metadata", "DELETE")] == [
        f"/library/metadata/{show.rating_key}"
    ]
    assert sim.deleted == [show.rating_key]
    request.refresh_from_db()
    assert request.status == Status.DELETED and request.executed_at is not None
    live_rows = MediaItem.objects.filter(server=server, removed_at__isnull=True)
    assert not live_rows.filter(grandparent_plex_id=show.rating_key).exists()
    assert not live_rows.filter(plex_id=show.rating_key).exists()
    assert not live_rows.filter(type="season", parent_plex_id=show.rating_key).exists()
    assert live_rows.filter(grandparent_plex_id=sim.library.shows[1].rating_key).count() == 6
    assert result.run.deleted == 1 and result.run.bytes_freed == request.size_bytes
    actions = list(AuditLog.objects.filter(request=request).values_list("action", flat=True))
    assert sorted(actions) == ["approve", "execute"]


def test_season_and_movie_are_deleted_at_their_own_level(sim, server, admin, live):
    season = sim.library.shows[1].seasons[1]
    movie = sim.library.movies[0]
    _approve(server, admin, Level.SEASON, season.rating_key)
    _approve(server, admin, Level.MOVIE, movie.rating_key)
    deletion_execute(user=admin)
    assert sorted(sim.deleted) == sorted([season.rating_key, movie.rating_key])
    gone = MediaItem.objects.filter(server=server, removed_at__isnull=False)
    assert gone.filter(type="episode").count() == 3
    assert gone.filter(plex_id=movie.rating_key).exists()


def test_running_again_never_deletes_twice(sim, server, admin, live):
    movie = sim.library.movies[1]
    _approve(server, admin, Level.MOVIE, movie.rating_key)
    deletion_execute(user=admin)
    second = deletion_execute(user=admin)
    assert second.run is None
    assert len(sim.requests_to("/library/metadata", "DELETE")) == 1


def test_dry_run_calls_nothing_and_records_would_delete(sim, server, admin):
    movie = sim.library.movies[0]
    request = _approve(server, admin, Level.MOVIE, movie.rating_key)
    sim.reset_requests()
    result = deletion_execute(user=admin)  # dry run is on by default
    assert sim.requests == []
    request.refresh_from_db()
    assert request.status == Status.APPROVED and request.dry_run
    assert result.run.would_delete == 1 and result.run.dry_run
    assert AuditLog.objects.filter(action="would_delete", request=request).exists()
    assert not MediaItem.objects.filter(removed_at__isnull=False).exists()


def test_plex_error_leaves_a_failed_request_with_the_reason(sim, server, admin, live):
    movie = sim.library.movies[2]
    request = _approve(server, admin, Level.MOVIE, movie.rating_key)
    sim.fail_on("/library/metadata", status=500, method="DELETE")
    deletion_execute(user=admin)
    request.refresh_from_db()
    assert request.status == Status.FAILED
    assert "HTTP 500" in request.error and "sim-token" not in request.error
    assert not MediaItem.objects.filter(removed_at__isnull=False).exists()
    assert AuditLog.objects.filter(action="fail", request=request).exists()


def test_refused_deletion_is_a_failure(sim, server, admin, live):
    sim.allow_media_deletion = False
    request = _approve(server, admin, Level.MOVIE, sim.library.movies[0].rating_key)
    deletion_execute(user=admin)
    request.refresh_from_db()
    assert request.status == Status.FAILED and "403" in request.error


def test_watched_since_approval_is_skipped(sim, server, admin, live):
    show = sim.library.shows[2]
    request = _approve(server, admin, Level.SHOW, show.rating_key)
    episode = MediaItem.objects.filter(grandparent_plex_id=show.rating_key).first()
    episode.last_watched_at = days_ago(0)
    episode.total_play_count = 1
    episode.save()
    deletion_execute(user=admin)
    request.refresh_from_db()
    assert request.status == Status.SKIPPED and "Watched since approval" in request.error
    assert sim.requests_to("/library/metadata", "DELETE") == []
    assert AuditLog.objects.filter(action="skip", request=request).exists()


def test_protecting_part_of_an_approved_show_takes_it_out_of_the_queue(sim, server, admin, live):
    show = sim.library.shows[0]
    episode = show.seasons[0].episodes[0]
    request = _approve(server, admin, Level.SHOW, show.rating_key)
    groups_protect(refs=[(Level.EPISODE, server.pk, episode.rating_key)], user=admin)
    assert Exclusion.objects.count() == 1
    request.refresh_from_db()
    assert request.status == Status.CANCELLED and "Protected" in request.error
    assert AuditLog.objects.get(action="cancel", request=request).message == request.error
    assert deletion_execute(user=admin).run is None
    assert sim.deleted == []


def test_item_being_played_is_skipped(sim, server, admin, live):
    show = sim.library.shows[0]
    request = _approve(server, admin, Level.SHOW, show.rating_key)
    sim.playing.append(show.seasons[1].episodes[2].rating_key)
    deletion_execute(user=admin)
    request.refresh_from_db()
    assert request.status == Status.SKIPPED and "played right now" in request.error
    assert sim.requests_to("/status/sessions")
    assert sim.deleted == []


def test_over_cap_needs_confirmation(sim, server, admin):
    deletion_settings_set(dry_run=False, max_groups=1, max_gb=100_000)
    for movie in sim.library.movies[:2]:
        _approve(server, admin, Level.MOVIE, movie.rating_key)
    assert "above the cap" in execution_preflight().exceeded
    result = deletion_execute(user=admin)
    assert result.needs_confirmation and sim.deleted == []
    confirmed = deletion_execute(user=admin, confirm_over_cap=True)
    assert confirmed.run.deleted == 2 and len(sim.deleted) == 2


def test_unknown_history_blocks_execution(sim, server, admin, live):
    request = _approve(server, admin, Level.MOVIE, sim.library.movies[0].rating_key)
    history_synced(server, error="Tautulli timed out")  # a second Tautulli, failing
    deletion_execute(user=admin)
    request.refresh_from_db()
    assert request.status == Status.SKIPPED and "history is unknown" in request.error
    assert sim.deleted == []


def test_sessions_check_failure_keeps_the_request_and_deletes_nothing(sim, server, admin, live):
    request = _approve(server, admin, Level.MOVIE, sim.library.movies[3].rating_key)
    sim.fail_on("/status/sessions", status=503)
    deletion_execute(user=admin)
    request.refresh_from_db()
    assert request.status == Status.FAILED and "503" in request.error
    assert sim.requests_to("/library/metadata", "DELETE") == []


def test_pages_approve_queue_execute_end_to_end(
    sim, server, live, make_staff, django_capture_on_commit_callbacks
):
    client = make_staff(
        "deletion.view_candidates",
        "deletion.approve_deletion",
        "deletion.execute_deletion",
        "deletion.view_deletionrequest",
    )
    show = sim.library.shows[1]
    ref = f"show:{server.pk}:{show.rating_key}"
    page = client.get(reverse("deletion:candidates"), {"group_by": "show"}).content.decode()
    assert f'value="{ref}"' in page
    client.post(reverse("deletion:action") + "?group_by=show", {"action": "approve", "refs": [ref]})
    assert "Dry run is OFF" in client.get(reverse("deletion:queue")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("deletion:execute"))
    assert sim.deleted == [show.rating_key]
    assert DeletionRequest.objects.get().status == Status.DELETED
    assert (
        MediaItem.objects.filter(grandparent_plex_id=show.rating_key, removed_at=None).count() == 0
    )
