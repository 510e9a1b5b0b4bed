"""The Seerr sync (run kind "seerr"), its command and its admin, against the simulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from syncing.models import SeerrRequest, SeerrServer, SyncRun
from syncing.services.operations import sync_all
from syncing.services.seerr_sync import seerr_sync
from tests.seerr_helpers import seerr_server, seerr_sim

__all__ = ["seerr_server", "seerr_sim"]  # fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_requests(seerr_sim):
    ann = seerr_sim.add_user(email="ann@example.test", plex_username="ann")
    local = seerr_sim.add_user(email="kid@example.test", username="kid")
    seerr_sim.add_request(
        user=ann, media_type="movie", tmdb_id=603, created=datetime(2026, 1, 2, tzinfo=UTC)
    )
    seerr_sim.add_request(
        user=local, media_type="tv", tmdb_id=1399, tvdb_id=121361, seasons=[1, 3], status=1
    )
    return seerr_sim


def _stored() -> list[tuple]:
    return list(
        SeerrRequest.objects.order_by("request_id").values_list(
            "request_id", "media_type", "tmdb_id", "tvdb_id", "seasons", "status",
            "requester_plex_username", "requester_username", "requester_email",
        )
    )  # fmt: skip


def test_every_request_is_stored_with_its_requester(seerr_server, two_requests):
    run = seerr_sync(seerr=seerr_server, trigger="test")

    assert (run.status, run.rows_fetched, run.rows_created) == ("success", 2, 2)
    assert _stored() == [
        (1, "movie", 603, None, [], 2, "ann", "ann", "ann@example.test"),
        (2, "tv", 1399, 121361, [1, 3], 1, "", "kid", "kid@example.test"),
    ]
    assert SeerrRequest.objects.get(request_id=1).requested_at == datetime(2026, 1, 2, tzinfo=UTC)


def test_requests_are_paged_to_the_end(seerr_server, seerr_sim):
    ann = seerr_sim.add_user(email="ann@example.test", plex_username="ann")
    for n in range(250):
        seerr_sim.add_request(user=ann, media_type="movie", tmdb_id=n + 1)

    run = seerr_sync(seerr=seerr_server)

    assert SeerrRequest.objects.count() == 250
    assert seerr_sim.requests_made.count("/api/v1/request") == 3  # take=100: 100 + 100 + 50
    assert run.requests_made == 4  # and one page of users


def test_a_request_gone_from_seerr_is_removed(seerr_server, two_requests):
    seerr_sync(seerr=seerr_server)
    two_requests._requests.pop()

    run = seerr_sync(seerr=seerr_server)

    assert run.items_gone == 1 and [r[0] for r in _stored()] == [1]


@pytest.mark.parametrize("break_it", ["wrong key", "down", "server error"])
def test_a_failed_sync_keeps_the_stored_requests(seerr_server, two_requests, break_it):
    seerr_sync(seerr=seerr_server)
    before = _stored()
    two_requests.add_request(user=two_requests.users[0], media_type="movie", tmdb_id=1)
    if break_it == "wrong key":
        SeerrServer.objects.filter(pk=seerr_server.pk).update(api_key="not-the-key")
    elif break_it == "down":
        two_requests.stop()
    else:
        two_requests.fault(status=500, path="/api/v1/user")  # after the requests were read

    run = seerr_sync(seerr=SeerrServer.objects.get(pk=seerr_server.pk))

    assert run.status == SyncRun.Status.FAILED
    assert "\n" not in run.error and "Seerr" in run.error
    assert "not-the-key" not in run.error and two_requests.api_key not in run.error
    assert _stored() == before


def test_the_wrong_key_is_named_as_such(seerr_server, two_requests):
    SeerrServer.objects.filter(pk=seerr_server.pk).update(api_key="nope")
    run = seerr_sync(seerr=SeerrServer.objects.get(pk=seerr_server.pk))
    assert run.error.startswith("Seerr refused the API key (HTTP 403")


def test_command_prints_a_summary_and_fails_clearly(seerr_server, two_requests, capsys):
    call_command("sync_seerr")
    assert "Seerr: success – 2 requests, 2 new" in capsys.readouterr().out

    two_requests.stop()
    with pytest.raises(CommandError, match="Seerr sync failed – Seerr: Seerr is unreachable"):
        call_command("sync_seerr")


def test_env_variables_create_the_connection(seerr_sim, two_requests, settings):
    settings.SEERR_URL, settings.SEERR_API_KEY = seerr_sim.url + "/", seerr_sim.api_key
    call_command("sync_seerr")
    seerr = SeerrServer.objects.get()
    assert (seerr.name, seerr.base_url) == ("Seerr (from environment)", seerr_sim.url)
    assert SeerrRequest.objects.count() == 2


def test_sync_all_reads_seerr_too(seerr_server, two_requests):
    runs = sync_all(trigger="test")
    assert [(r.kind, r.status) for r in runs] == [("seerr", "success")]


def test_admin_never_shows_the_key_and_keeps_it_on_blank(seerr_server, make_staff):
    client = make_staff("syncing.view_seerrserver", "syncing.change_seerrserver")
    url = reverse("admin:syncing_seerrserver_change", args=[seerr_server.pk])
    page = client.get(url).content.decode()
    assert seerr_server.api_key not in page

    data = {"name": "Seerr 2", "base_url": seerr_server.base_url, "api_key": "", "enabled": "on"}
    client.post(url, data)
    seerr_server.refresh_from_db()
    assert (seerr_server.name, seerr_server.api_key) == ("Seerr 2", "sim-seerr-secret-4b1d")


@pytest.mark.parametrize(
    ("key", "expected"), [(None, "connected (Seerr 3.1.0)"), ("bad", "refused the API key")]
)
def test_admin_test_connection(seerr_server, two_requests, make_staff, key, expected):
    if key:
        SeerrServer.objects.filter(pk=seerr_server.pk).update(api_key=key)
    client = make_staff("syncing.view_seerrserver", "syncing.run_sync")
    response = client.post(
        reverse("admin:syncing_seerrserver_changelist"),
        {"action": "test_connection", "_selected_action": [seerr_server.pk]},
        follow=True,
    )
    assert expected in response.content.decode()


def test_admin_actions_hidden_without_the_sync_permission(seerr_server, two_requests, make_staff):
    client = make_staff("syncing.view_seerrserver")
    url = reverse("admin:syncing_seerrserver_changelist")
    page = client.get(url).content.decode()
    assert "test_connection" not in page and "sync_now" not in page
    response = client.post(
        url, {"action": "test_connection", "_selected_action": [seerr_server.pk]}, follow=True
    )
    assert "connected" not in response.content.decode()
    assert two_requests.requests_made == []


def test_admin_sync_now_queues_a_seerr_run(
    seerr_server, two_requests, make_staff, django_capture_on_commit_callbacks
):
    client = make_staff("syncing.view_seerrserver", "syncing.run_sync")
    url = reverse("admin:syncing_seerrserver_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "sync_now", "_selected_action": [seerr_server.pk]})
    run = SyncRun.objects.get(kind="seerr")
    assert (run.status, run.seerr_server, run.rows_created) == ("success", seerr_server, 2)
