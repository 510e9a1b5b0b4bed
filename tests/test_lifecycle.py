"""Approved → leaving soon → due → executed, against the Plex simulator over HTTP; groups
taken out of the queue; the queue page; the optional daily schedule."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule
from django_q.scheduler import scheduler

from deletion.config import DeletionSettings, deletion_settings_get, deletion_settings_set
from deletion.lifecycle import request_cancel
from deletion.models import AuditLog, DeletionRequest, Level
from deletion.schedules import EXECUTE_SCHEDULE
from deletion.selectors import default_rule_get
from deletion.services import candidates_approve
from media.models import MediaItem
from notifications.models import Notification
from simulators.library import generate_library
from simulators.plex import PlexSimulator
from simulators.tautulli import TautulliSimulator
from syncing.runs import run_now
from syncing.services.plex_sync import plex_library_sync
from tests import factories
from tests.deletion_fixtures import history_synced
from tests.tautulli_helpers import target_of

pytestmark = pytest.mark.django_db

Status = DeletionRequest.Status
QUEUE_PERMS = (
    "deletion.view_deletionrequest",
    "deletion.execute_deletion",
    "deletion.approve_deletion",
)


@pytest.fixture
def sim():
    library = generate_library(shows=2, seasons_per_show=1, episodes_per_season=2, movies=4)
    with PlexSimulator(library, token="tok") as simulator:
        yield simulator


@pytest.fixture
def tautulli(settings):
    """The Tautulli that syncs and execution ask for history (no plays until a test adds)."""
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
    """Deleting for real, a week after approval."""
    deletion_settings_set(dry_run=False, max_groups=25, max_gb=100_000, leaving_soon_days=7)


def _approve(sim, server, user, keys: list[tuple[str, int]]) -> list[DeletionRequest]:
    refs = [(level, server.pk, key) for level, key in keys]
    result = candidates_approve(refs=refs, user=user, rule=default_rule_get())
    assert len(result.done) == len(keys), result.refused
    return list(DeletionRequest.objects.order_by("pk"))


def _three(sim) -> list[tuple[str, int]]:
    return [
        (Level.MOVIE, sim.library.movies[0].rating_key),
        (Level.MOVIE, sim.library.movies[1].rating_key),
        (Level.SHOW, sim.library.shows[0].rating_key),
    ]


def _execute_command() -> str:
    out = StringIO()
    call_command("execute_deletions", stdout=out)
    return out.getvalue()


def test_leave_date_defaults_to_seven_days(settings):
    settings.LEAVING_SOON_DAYS = 7
    assert DeletionSettings().leaving_soon_days == 7
    assert deletion_settings_get().leaving_soon_days == 7


def test_approved_groups_are_deleted_only_once_due(sim, server, admin_user, week):
    three = _three(sim)
    requests = _approve(sim, server, admin_user, three)
    assert {r.leave_at - r.approved_at for r in requests} == {timedelta(days=7)}

    assert "Nothing is due." in _execute_command()
    assert sim.deleted == []

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert "3 deleted" in _execute_command()
    assert sorted(sim.deleted) == sorted(key for _, key in three)
    assert set(DeletionRequest.objects.values_list("status", flat=True)) == {Status.DELETED}


def test_zero_days_means_due_at_once(sim, server, admin_user):
    deletion_settings_set(dry_run=False, max_groups=25, max_gb=100_000, leaving_soon_days=0)
    [request] = _approve(sim, server, admin_user, _three(sim)[:1])
    assert request.is_due
    assert "1 deleted" in _execute_command()


def test_the_command_exits_non_zero_when_a_group_failed(sim, server, admin_user):
    deletion_settings_set(dry_run=False, max_groups=25, max_gb=100_000, leaving_soon_days=0)
    _approve(sim, server, admin_user, _three(sim)[:1])
    sim.fail_on("/library/metadata", status=500, method="DELETE")
    with pytest.raises(CommandError, match="1 group\\(s\\) failed"):
        _execute_command()


def test_the_command_stays_within_the_caps(sim, server, admin_user):
    deletion_settings_set(dry_run=False, max_groups=2, max_gb=100_000, leaving_soon_days=0)
    _approve(sim, server, admin_user, _three(sim))
    assert "2 deleted" in _execute_command()
    assert DeletionRequest.objects.filter(status=Status.APPROVED).count() == 1


def test_cancel_takes_a_group_out_with_the_reason_in_the_audit_log(sim, server, admin_user, week):
    first, second, _ = _approve(sim, server, admin_user, _three(sim))
    assert request_cancel(request=first, user=admin_user, reason="Kids want it")
    assert not request_cancel(request=first, user=admin_user)  # not waiting any more
    first.refresh_from_db()
    assert first.status == Status.CANCELLED
    entry = AuditLog.objects.get(action="cancel")
    assert entry.message == "Cancelled by admin: Kids want it" and entry.request == first
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        _execute_command()
    assert first.plex_id not in sim.deleted and second.plex_id in sim.deleted


def test_queue_page_shows_due_and_leaving_soon_apart_with_dates(
    sim, server, admin_user, make_staff
):
    deletion_settings_set(dry_run=True, max_groups=25, max_gb=500, leaving_soon_days=0)
    due, *_ = _approve(sim, server, admin_user, _three(sim)[:1])
    deletion_settings_set(leaving_soon_days=7)
    _approve(sim, server, admin_user, _three(sim)[1:])
    html = make_staff(*QUEUE_PERMS).get(reverse("deletion:queue")).content.decode()
    due_table = html[
        html.index('data-testid="queue-due"') : html.index('data-testid="queue-leaving"')
    ]
    leaving_table = html[html.index('data-testid="queue-leaving"') :]
    assert f'data-pk="{due.pk}"' in due_table and f'data-pk="{due.pk}"' not in leaving_table
    later = DeletionRequest.objects.exclude(pk=due.pk)
    for r in later:
        assert f'data-pk="{r.pk}"' in leaving_table
        assert timezone.localtime(r.leave_at).strftime("%Y-%m-%d %H:%M") in leaving_table
    assert "1</strong> due group" in html


def test_execute_now_on_a_group_not_yet_due_needs_a_confirmation(
    sim, server, admin_user, make_staff, week, django_capture_on_commit_callbacks
):
    request, *_ = _approve(sim, server, admin_user, _three(sim))
    client = make_staff(*QUEUE_PERMS)
    url = reverse("deletion:execute")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"request_id": request.pk})
    assert response.url.endswith(f"?confirm_early={request.pk}") and sim.deleted == []
    page = client.get(response.url).content.decode()
    assert 'name="confirm_early"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"request_id": request.pk, "confirm_early": "on"})
    assert sim.deleted == [request.plex_id]
    assert DeletionRequest.objects.filter(status=Status.APPROVED).count() == 2


def test_the_queue_button_executes_only_due_groups(
    sim, server, admin_user, make_staff, week, django_capture_on_commit_callbacks
):
    _approve(sim, server, admin_user, _three(sim))
    with django_capture_on_commit_callbacks(execute=True):
        response = make_staff(*QUEUE_PERMS).post(reverse("deletion:execute"), follow=True)
    assert "Nothing is due." in response.content.decode() and sim.deleted == []


def test_cancel_button_needs_approve_permission(sim, server, admin_user, make_staff, week):
    request, *_ = _approve(sim, server, admin_user, _three(sim))
    url = reverse("deletion:cancel", args=[request.pk])
    assert make_staff("deletion.view_deletionrequest").post(url).status_code == 403
    make_staff(*QUEUE_PERMS).post(url)
    request.refresh_from_db()
    assert request.status == Status.CANCELLED


def test_daily_schedule_is_off_by_default_and_declared_once_when_on(make_staff):
    assert not Schedule.objects.filter(name=EXECUTE_SCHEDULE).exists()
    call_command("migrate", verbosity=0)
    assert not Schedule.objects.filter(name=EXECUTE_SCHEDULE).exists()
    deletion_settings_set(execute_daily=True)
    call_command("migrate", verbosity=0)
    [schedule] = Schedule.objects.filter(name=EXECUTE_SCHEDULE)
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.func == "deletion.tasks.deletion_execute_due_task"
    deletion_settings_set(execute_daily=False)
    assert not Schedule.objects.filter(name=EXECUTE_SCHEDULE).exists()


def _run_schedule() -> None:
    Schedule.objects.filter(name=EXECUTE_SCHEDULE).update(
        next_run=timezone.now() - timedelta(minutes=1)
    )
    scheduler()


def test_the_daily_schedule_respects_dry_run_and_caps(sim, server, admin_user):
    deletion_settings_set(
        dry_run=True, max_groups=2, max_gb=100_000, leaving_soon_days=0, execute_daily=True
    )
    _approve(sim, server, admin_user, _three(sim))
    _run_schedule()
    assert sim.deleted == []
    assert AuditLog.objects.filter(action="would_delete").count() == 2
    deletion_settings_set(dry_run=False)
    _run_schedule()
    assert len(sim.deleted) == 2
    assert DeletionRequest.objects.filter(status=Status.APPROVED).count() == 1


def _tautulli_sync(server) -> None:
    run = run_now(kind="tautulli", target=server.tautulli_servers.get(), trigger="test")
    assert run.status == "success", run.error


def test_a_play_on_day_3_takes_the_group_out_and_it_is_never_deleted(
    sim, tautulli, server, admin_user, week
):
    three = _three(sim)
    watched, *_ = _approve(sim, server, admin_user, three)
    item = MediaItem.objects.get(server=server, plex_id=watched.plex_id)
    other = MediaItem.objects.get(server=server, plex_id=sim.library.movies[3].rating_key)
    tautulli.add_play(target=target_of(other), started=timezone.now() - timedelta(days=900))
    day3 = timezone.now() + timedelta(days=3)
    with time_machine.travel(day3):
        tautulli.add_play(target=target_of(item), started=day3 - timedelta(hours=1))
        _tautulli_sync(server)
    watched.refresh_from_db()
    assert watched.status == Status.CANCELLED and "Watched since approval" in watched.error
    assert AuditLog.objects.filter(action="cancel", request=watched).exists()
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert "2 deleted" in _execute_command()
    assert watched.plex_id not in sim.deleted and len(sim.deleted) == 2


def test_a_failed_sync_is_announced_once_and_a_sync_never_fails_for_it(
    server, tautulli, notify_target, django_capture_on_commit_callbacks
):
    notify_target.fail_status = 500  # the target is down too: the sync is still just failed
    tautulli.stop()
    with django_capture_on_commit_callbacks(execute=True):
        run = run_now(kind="tautulli", target=server.tautulli_servers.get(), trigger="test")
    assert run.status == "failed"
    [notification] = Notification.objects.filter(event="sync_failed")
    assert notification.title.startswith("Sync failed: Tautulli history")
    assert notification.status == "failed" and "500" in notification.error


def test_new_candidates_are_announced_after_a_sync_with_count_size_and_titles(
    sim, server, notify_target, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _tautulli_sync(server)
        _tautulli_sync(server)  # nothing new the second time: no second message
    [message] = [m for m in notify_target.messages if "candidate" in m["title"]]
    assert message["title"].endswith("new deletion candidates")
    assert "reclaimable" in message["message"] and "Biggest:" in message["message"]
