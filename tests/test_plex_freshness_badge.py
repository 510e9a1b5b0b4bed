"""The badge's Plex part with light syncs and the listener: "live", minutes, colours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from syncing.kinds import run_kind
from syncing.models import SyncRun
from syncing.selectors import sync_badge_get
from syncing.services.plex_events import listener_state_update

pytestmark = pytest.mark.django_db


def _run(server, kind: str, minutes_ago: float, status: str = "success") -> SyncRun:
    finished = timezone.now() - timedelta(minutes=minutes_ago)
    return SyncRun.objects.create(
        kind=kind,
        plex_server=server,
        lock_key=f"{run_kind(kind).lock_key(server, {})}:{minutes_ago}",
        status=status,
        started_at=finished - timedelta(seconds=2),
        finished_at=finished,
        error="Plex at http://x answered HTTP 500" if status == "failed" else "",
    )


def _plex_part(admin_client):
    response = admin_client.get(reverse("admin:index"))
    part = next(p for p in response.context["sync_badge"] if p.kind == "plex")
    return part, response.content.decode()


def test_live_while_the_listener_is_connected_and_light_syncs_are_fresh(admin_client, plex_server):
    _run(plex_server, "plex", 60)
    _run(plex_server, "plex_changes", 5)
    listener_state_update(plex_server, connected=True)
    part, body = _plex_part(admin_client)
    assert (part.state, part.css, part.live) == ("fresh", "green", True)
    assert 'data-testid="plex-live">live<' in body


def test_minutes_since_the_newest_plex_run_without_the_listener(admin_client, plex_server):
    _run(plex_server, "plex", 60)
    _run(plex_server, "plex_changes", 7)
    _run(plex_server, "plex_events", 2)
    listener_state_update(plex_server, connected=False)
    part, body = _plex_part(admin_client)
    assert (part.state, part.live) == ("fresh", False)
    assert "2\xa0minutes ago" in body


@pytest.mark.parametrize(
    ("light_minutes_ago", "state", "css"),
    [(20, "fresh", "green"), (45, "stale", "amber"), (120, "old", "red")],
)
def test_light_sync_age_sets_the_colour(admin_client, plex_server, light_minutes_ago, state, css):
    _run(plex_server, "plex", 60)
    _run(plex_server, "plex_changes", light_minutes_ago)
    listener_state_update(plex_server, connected=True)
    part, _ = _plex_part(admin_client)
    assert (part.state, part.css) == (state, css)
    assert part.live is (state == "fresh")


def test_a_dead_listener_is_not_live(admin_client, plex_server):
    _run(plex_server, "plex", 60)
    _run(plex_server, "plex_changes", 5)
    listener_state_update(plex_server, connected=True)
    later = timezone.now() + timedelta(minutes=5)  # no heartbeat for 5 minutes
    part = next(p for p in sync_badge_get(now=later) if p.kind == "plex")
    assert not part.live


def test_a_failed_light_sync_is_red_and_an_old_full_sync_still_counts(admin_client, plex_server):
    _run(plex_server, "plex", 60)
    _run(plex_server, "plex_changes", 3, status="failed")
    part, body = _plex_part(admin_client)
    assert (part.state, part.css) == ("failed", "red") and "HTTP 500" in body
    SyncRun.objects.all().delete()
    _run(plex_server, "plex", 25 * 60)
    _run(plex_server, "plex_changes", 3)
    part, _ = _plex_part(admin_client)
    assert part.state == "old"  # nothing reconciled for a day: light syncs don't hide it


def test_badge_with_light_syncs_costs_two_queries(plex_server, django_assert_num_queries):
    _run(plex_server, "plex", 60)
    for minutes in range(30, 0, -5):
        _run(plex_server, "plex_changes", minutes)
    with django_assert_num_queries(2):  # the times, the listener (nothing is running)
        parts = sync_badge_get()
    assert parts[0].state == "fresh"
