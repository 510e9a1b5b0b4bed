"""Notifications through Apprise to a receiver on 127.0.0.1: one message per run, failures
recorded and shown, never breaking the execution that sends them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from deletion.config import deletion_settings_set
from deletion.execution import deletion_execute
from deletion.models import DeletionRequest, Level
from deletion.selectors import default_rule_get
from deletion.services import candidates_approve
from notifications.models import Notification, TargetState
from notifications.services import notify
from notifications.targets import notify_urls_get, notify_urls_set, target_states_get
from simulators.library import generate_library
from simulators.notify_target import NotifyReceiver
from simulators.plex import PlexSimulator
from simulators.tautulli import TautulliSimulator
from syncing.services.plex_sync import plex_library_sync
from tests import factories
from tests.deletion_fixtures import history_synced

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim():
    with PlexSimulator(
        generate_library(shows=1, seasons_per_show=1, episodes_per_season=2, movies=50), token="tok"
    ) as simulator:
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


def _approve_movies(sim, server, user, n: int) -> list[str]:
    movies = sim.library.movies[:n]
    refs = [(Level.MOVIE, server.pk, m.rating_key) for m in movies]
    assert len(candidates_approve(refs=refs, user=user, rule=default_rule_get()).done) == n
    return [m.title for m in movies]


def test_an_execution_of_50_groups_sends_exactly_one_message_listing_them(
    sim, server, admin_user, notify_target, django_capture_on_commit_callbacks
):
    deletion_settings_set(dry_run=False, max_groups=100, max_gb=100_000)
    with django_capture_on_commit_callbacks(execute=True):
        titles = _approve_movies(sim, server, admin_user, 50)
    notify_target.messages.clear()  # the "leaving soon" announcement of the approval
    with django_capture_on_commit_callbacks(execute=True):
        run = deletion_execute(user=admin_user).run
    assert run.deleted == 50
    assert len(notify_target.messages) == 1
    message = notify_target.messages[0]
    assert message["title"].startswith("Deleted 50, freed ")
    assert "**Deleted (50)**" in message["message"]
    assert all(title in message["message"] for title in titles)
    assert len(message["message"]) <= 2000  # fits in a Discord message
    assert Notification.objects.get(event="executed").status == "sent"


def test_approval_announces_once_with_titles_sizes_and_dates(
    sim, server, admin_user, notify_target, django_capture_on_commit_callbacks
):
    deletion_settings_set(dry_run=True, max_groups=25, max_gb=500, leaving_soon_days=7)
    with django_capture_on_commit_callbacks(execute=True):
        titles = _approve_movies(sim, server, admin_user, 3)
    [message] = notify_target.messages
    assert message["title"].startswith("Leaving soon: 3 titles")
    leave = DeletionRequest.objects.first().leave_at
    assert all(t in message["message"] for t in titles)
    assert f"leaves {leave:%a %d %b %Y}" in message["message"]


def test_a_target_answering_500_never_fails_the_execution_and_its_error_is_shown(
    sim, server, admin_user, make_staff, django_capture_on_commit_callbacks
):
    deletion_settings_set(dry_run=False, max_groups=25, max_gb=100_000)
    with NotifyReceiver() as good, NotifyReceiver() as bad:
        bad.fail_status = 500
        notify_urls_set(urls=[bad.apprise_url, good.apprise_url])
        _approve_movies(sim, server, admin_user, 2)
        with django_capture_on_commit_callbacks(execute=True):
            result = deletion_execute(user=admin_user)
        bad_port = bad.port
    assert result.run.status == "done" and result.run.deleted == 2
    assert bad.attempts == 3  # NOTIFY_ATTEMPTS, each failing
    assert len(good.messages) == 1
    notification = Notification.objects.get(event="executed")
    assert notification.status == "partial" and "500" in notification.error
    state = TargetState.objects.get(failures__gt=0)
    assert "500" in state.last_error and state.failures == 1
    page = make_staff("deletion.manage_settings", "notifications.manage_notifications").get(
        reverse("deletion:settings")
    )
    html = page.content.decode()
    assert state.last_error in html
    assert f"127.0.0.1:{bad_port}" in html


def test_notify_is_one_message_per_key_and_never_raises(notify_target):
    first = notify(event="sync_failed", title="Plex sync failed", body="x", key="run:1")
    second = notify(event="sync_failed", title="Plex sync failed", body="x", key="run:1")
    assert first is not None and second is None
    assert notify(event="sync_failed", title="t" * 400, body="y" * 5000) is not None
    long = Notification.objects.exclude(key="run:1").get()
    assert len(long.title) == 250 and len(long.body) <= 1900


def test_notify_test_command_reports_each_target(notify_target):
    out = StringIO()
    call_command("notify_test", stdout=out)
    assert "sent" in out.getvalue()
    assert notify_target.messages[0]["title"] == "SmartPlex test message"
    notify_target.fail_status = 500
    with pytest.raises(CommandError, match="1 of 1 targets failed"):
        call_command("notify_test", stdout=StringIO())


def test_notify_test_without_targets_says_so(db):
    with pytest.raises(CommandError, match="No notification URL"):
        call_command("notify_test", stdout=StringIO())


def test_env_urls_are_added_and_secrets_never_shown(settings, make_staff, notify_target):
    settings.NOTIFY_URLS = "discord://1234567/secrettokenvalue123, json://127.0.0.1:9/x"
    targets = [(t.source, t.label) for t, _ in target_states_get()]
    assert [s for s, _ in targets] == ["settings", "environment", "environment"]
    client = make_staff("deletion.manage_settings", "notifications.manage_notifications")
    html = client.get(reverse("deletion:settings")).content.decode()
    assert "secrettokenvalue123" not in html and "discord://" in html


def test_settings_page_saves_urls_keeps_them_on_blank_and_refuses_bad_ones(make_staff):
    client = make_staff("deletion.manage_settings", "notifications.manage_notifications")
    url = reverse("notifications:urls")
    client.post(url, {"urls": "json://127.0.0.1:9/a\njson://127.0.0.1:9/b"})
    assert notify_urls_get() == ["json://127.0.0.1:9/a", "json://127.0.0.1:9/b"]
    client.post(url, {"urls": ""})
    assert len(notify_urls_get()) == 2
    response = client.post(url, {"urls": "nosuchservice://x"}, follow=True)
    assert "not a notification service Apprise knows" in response.content.decode()
    assert len(notify_urls_get()) == 2
    client.post(url, {"urls": "", "clear": "on"})
    assert notify_urls_get() == []


def test_send_test_button(make_staff, notify_target):
    client = make_staff("deletion.manage_settings", "notifications.manage_notifications")
    response = client.post(reverse("notifications:test"), follow=True)
    assert "Test sent to" in response.content.decode()
    assert len(notify_target.messages) == 1


def test_notification_pages_need_the_permission(make_staff, notify_target):
    client = make_staff("deletion.manage_settings")
    assert client.post(reverse("notifications:test")).status_code == 403
    assert client.post(reverse("notifications:urls"), {"urls": ""}).status_code == 403
    assert client.get(reverse("notifications:demo_inbox")).status_code == 403
    assert "notify-card" not in client.get(reverse("deletion:settings")).content.decode()
    assert notify_target.messages == []


def test_demo_inbox_lists_what_the_demo_target_received(settings, make_staff, notify_target):
    settings.DEMO_INBOX_URL = notify_target.inbox_url
    client = make_staff("notifications.manage_notifications")
    client.post(reverse("notifications:test"))
    html = client.get(reverse("notifications:demo_inbox")).content.decode()
    assert "SmartPlex test message" in html
