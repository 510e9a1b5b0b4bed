""" "Sync now": one queued run per server holding the lock, one task, permission-guarded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django_q.models import Task

from media.models import MediaItem, PlexServer
from simulators.demo import DemoSize, demo_start
from syncing.kinds import run_kind
from syncing.models import SyncRun, TautulliServer

pytestmark = pytest.mark.django_db
URL = reverse("syncing:sync_now")
SMALL = DemoSize(
    shows=3, seasons_per_show=1, episodes_per_season=3, movies=5, users=2, days=30, plays=40
)


@pytest.fixture
def servers():
    demo = demo_start(size=SMALL, seed=5)
    env = demo.env()
    plex = PlexServer.objects.create(name="demo", base_url=env["PLEX_URL"], token=env["PLEX_TOKEN"])
    tautulli = TautulliServer.objects.create(
        name="demo-t",
        base_url=env["TAUTULLI_URL"],
        api_key=env["TAUTULLI_API_KEY"],
        plex_server=plex,
    )
    yield plex, tautulli
    demo.stop()


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_sync_now_queues_one_task_that_runs_plex_then_tautulli(
    make_staff, servers, django_capture_on_commit_callbacks
):
    client = make_staff("syncing.run_sync")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(URL, {"next": reverse("admin:index")})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    # the view queues one task (the runs' after-run hooks may queue their own, e.g. a
    # "new candidates" notification)
    assert callbacks[0].__qualname__.startswith("runs_enqueue")
    assert Task.objects.filter(func="syncing.tasks.sync_runs_task").count() == 1
    runs = list(SyncRun.objects.order_by("started_at"))
    assert [(r.kind, r.status, r.trigger) for r in runs] == [
        ("plex", "success", "admin:staff1"),
        ("tautulli", "success", "admin:staff1"),
    ]
    text = " ".join(_messages(response))
    assert "Sync queued" in text
    assert reverse("admin:syncing_syncrun_change", args=[runs[0].pk]) in text
    assert MediaItem.objects.filter(type="episode").count() == 3 * 1 * 3
    assert MediaItem.objects.filter(total_play_count__gt=0).exists()


def test_sync_now_needs_the_permission(make_staff, servers, django_capture_on_commit_callbacks):
    client = make_staff("syncing.view_syncrun")
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(URL).status_code == 403
    assert callbacks == [] and not SyncRun.objects.exists()


def test_sync_now_refuses_get(make_staff, servers):
    client = make_staff("syncing.run_sync")
    assert client.get(URL).status_code == 405
    assert not SyncRun.objects.exists()


def test_anonymous_is_sent_to_login(client, servers):
    response = client.post(URL)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_second_trigger_while_running_is_refused(
    make_staff, servers, django_capture_on_commit_callbacks
):
    plex, _ = servers
    holder = SyncRun.objects.create(
        kind="plex",
        plex_server=plex,
        lock_key=run_kind("plex").lock_key(plex, {}),
        status="running",
    )
    client = make_staff("syncing.run_sync")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL)
    text = " ".join(_messages(response))
    assert "A Plex library sync is already running" in text
    assert reverse("admin:syncing_syncrun_change", args=[holder.pk]) in text
    # Only Tautulli was queued (and ran); the running Plex run was left alone.
    assert SyncRun.objects.filter(kind="plex").count() == 1
    assert SyncRun.objects.get(pk=holder.pk).status == "running"
    assert SyncRun.objects.filter(kind="tautulli").count() == 1


def test_stale_run_of_a_dead_worker_does_not_block(
    make_staff, servers, settings, django_capture_on_commit_callbacks
):
    plex, _ = servers
    old = timezone.now() - timedelta(minutes=settings.SYNC_STALE_MINUTES + 5)
    dead = SyncRun.objects.create(
        kind="plex",
        plex_server=plex,
        lock_key=run_kind("plex").lock_key(plex, {}),
        status="running",
        started_at=old,
        heartbeat_at=old,
    )
    client = make_staff("syncing.run_sync")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL)
    dead.refresh_from_db()
    assert dead.status == "failed" and "Stale" in dead.error
    assert SyncRun.objects.filter(kind="plex", status="success").count() == 1


def test_admin_action_on_plex_servers(make_staff, servers, django_capture_on_commit_callbacks):
    plex, _ = servers
    client = make_staff("syncing.run_sync", "media.view_plexserver")
    url = reverse("admin:media_plexserver_changelist")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            url, {"action": "sync_now", "_selected_action": [plex.pk]}, follow=True
        )
    assert len(callbacks) == 1
    assert "Sync queued" in response.content.decode()
    assert list(SyncRun.objects.values_list("kind", "status")) == [("plex", "success")]


def test_admin_action_hidden_without_permission(make_staff, servers):
    plex, _ = servers
    client = make_staff("media.view_plexserver")
    url = reverse("admin:media_plexserver_changelist")
    response = client.get(url)
    assert response.status_code == 200
    assert "sync_now" not in response.content.decode()
    response = client.post(url, {"action": "sync_now", "_selected_action": [plex.pk]})
    assert not SyncRun.objects.exists()


def test_tautulli_full_rebuild_action(make_staff, servers, django_capture_on_commit_callbacks):
    _, tautulli = servers
    client = make_staff("syncing.run_sync", "syncing.view_tautulliserver")
    url = reverse("admin:syncing_tautulliserver_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "sync_now_full", "_selected_action": [tautulli.pk]})
    run = SyncRun.objects.get(kind="tautulli")
    assert run.inputs["full"] is True and run.status == "success", run.error


def test_sync_now_button_shown_with_permission_only(make_staff):
    with_perm = make_staff("syncing.run_sync")
    without = make_staff()
    page = with_perm.get(reverse("admin:index")).content.decode()
    assert 'data-testid="sync-now"' in page and f'action="{URL}"' in page
    assert 'data-testid="sync-now"' not in without.get(reverse("admin:index")).content.decode()
