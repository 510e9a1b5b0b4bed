"""The "last synced" badge: green/amber/red/failed/running, from SyncRun records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from syncing.kinds import run_kind
from syncing.models import SyncRun
from tests import factories

pytestmark = pytest.mark.django_db


def _run(server, *, status, hours_ago, kind="plex", error="", **kw):
    finished = timezone.now() - timedelta(hours=hours_ago)
    return SyncRun.objects.create(
        kind=kind,
        plex_server=server,
        lock_key=run_kind(kind).lock_key(server, {}),
        status=status,
        started_at=finished - timedelta(minutes=5),
        finished_at=None if status in SyncRun.ACTIVE_STATUSES else finished,
        error=error,
        **kw,
    )


def _badge(client) -> dict[str, str]:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    parts = {p.kind: p for p in response.context["sync_badge"]}
    return response, parts


@pytest.mark.parametrize(
    ("hours_ago", "state", "css"),
    [(1, "fresh", "green"), (13, "stale", "amber"), (25, "old", "red")],
)
def test_badge_colour_follows_age(admin_client, plex_server, hours_ago, state, css):
    _run(plex_server, status="success", hours_ago=hours_ago)
    response, parts = _badge(admin_client)
    assert (parts["plex"].state, parts["plex"].css) == (state, css)
    body = response.content.decode()
    assert f'data-kind="plex" data-state="{state}"' in body
    assert f"sync-badge--{css}" in body


def test_failed_last_run_is_red_with_reason(admin_client, plex_server):
    _run(plex_server, status="success", hours_ago=2)
    _run(plex_server, status="failed", hours_ago=1, error="Plex answered 401 Unauthorized")
    response, parts = _badge(admin_client)
    assert parts["plex"].state == "failed" and parts["plex"].css == "red"
    assert "Plex answered 401 Unauthorized" in response.content.decode()  # hover title


def test_running_sync_shows_progress(admin_client, plex_server):
    _run(plex_server, status="success", hours_ago=2)
    _run(plex_server, status="running", hours_ago=0, progress_done=250, progress_total=1000)
    response, parts = _badge(admin_client)
    assert parts["plex"].progress_percent == 25
    assert "syncing 25%" in response.content.decode()


def test_never_synced_and_tautulli_part(admin_client):
    tautulli = factories.tautulli_server()
    SyncRun.objects.create(
        kind="tautulli",
        tautulli_server=tautulli,
        lock_key=run_kind("tautulli").lock_key(tautulli, {}),
        status="success",
        finished_at=timezone.now(),
    )
    _, parts = _badge(admin_client)
    assert parts["plex"].state == "never"
    assert parts["tautulli"].state == "fresh"


def test_badge_is_not_shown_to_anonymous_users(client):
    response = client.get(reverse("admin:login"))
    assert "sync-badge" not in response.content.decode()


def test_badge_costs_one_or_two_queries_whatever_the_history(
    plex_server, django_assert_num_queries
):
    from syncing.selectors import sync_badge_get

    for hours in range(30, 0, -1):
        _run(plex_server, status="success", hours_ago=hours)
    with django_assert_num_queries(1):  # nothing running: the times alone
        parts = sync_badge_get()
    assert parts[0].state == "fresh" and parts[0].running is None
    _run(plex_server, status="running", hours_ago=0)
    with django_assert_num_queries(2):  # and the running run
        parts = sync_badge_get()
    assert parts[0].state == "fresh" and parts[0].running is not None
