"""The Radarr/Sonarr connections in the admin: masked key, path mappings, Test connection."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from syncing.models import ArrServer
from tests import factories

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/syncing/arrserver/"


def _test_connection(client, server):
    data = {"action": "test_connection", "_selected_action": [server.pk]}
    resp = client.post(CHANGELIST, data, follow=True)
    return [str(m) for m in get_messages(resp.wsgi_request)] or [resp.content.decode()]


def test_test_connection_shows_the_version(make_staff, radarr_sim, plex_server):
    server = factories.arr_server(
        base_url=radarr_sim.url, api_key=radarr_sim.api_key, plex=plex_server
    )
    client = make_staff("syncing.view_arrserver", "syncing.run_sync")
    msgs = _test_connection(client, server)
    assert msgs == [f"{server.name}: connected, Radarr {radarr_sim.version}."]
    server.refresh_from_db()
    assert server.version == radarr_sim.version


def test_test_connection_with_a_wrong_key_is_one_line(make_staff, radarr_sim, plex_server):
    server = factories.arr_server(base_url=radarr_sim.url, api_key="nope-secret", plex=plex_server)
    client = make_staff("syncing.view_arrserver", "syncing.run_sync")
    (msg,) = _test_connection(client, server)
    assert msg == f"{server.name}: Radarr at {radarr_sim.url} rejected the API key (401)"


def test_test_connection_needs_the_run_sync_permission(make_staff, radarr_sim, plex_server):
    """Testing a connection is an operation like "Sync now": editing rights are not enough."""
    server = factories.arr_server(
        base_url=radarr_sim.url, api_key=radarr_sim.api_key, plex=plex_server
    )
    client = make_staff("syncing.view_arrserver", "syncing.change_arrserver")
    client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [server.pk]})
    assert radarr_sim.calls == []


def test_test_connection_is_post_with_csrf_only(make_staff, radarr_sim, plex_server):
    server = factories.arr_server(
        base_url=radarr_sim.url, api_key=radarr_sim.api_key, plex=plex_server
    )
    client = make_staff("syncing.view_arrserver", "syncing.run_sync")
    client.get(CHANGELIST, {"action": "test_connection", "_selected_action": [server.pk]})
    client.handler.enforce_csrf_checks = True
    data = {"action": "test_connection", "_selected_action": [server.pk]}
    assert client.post(CHANGELIST, data).status_code == 403
    assert radarr_sim.calls == []


def test_the_key_is_never_shown_and_kept_when_blank(make_staff, plex_server):
    server = factories.arr_server(api_key="very-secret-key", plex=plex_server)
    client = make_staff("syncing.view_arrserver", "syncing.change_arrserver")
    url = f"{CHANGELIST}{server.pk}/change/"
    assert "very-secret-key" not in client.get(url).content.decode()
    data = {
        "kind": "radarr", "name": server.name, "base_url": "http://radarr:7878",
        "api_key": "", "plex_server": plex_server.pk,
        "path_mappings": '[["/movies", "/data/movies"]]', "enabled": "on",
    }  # fmt: skip
    assert client.post(url, data).status_code == 302
    server.refresh_from_db()
    assert server.api_key == "very-secret-key"
    assert server.path_mappings == [["/movies", "/data/movies"]]


def test_bad_path_mappings_are_refused(make_staff, plex_server):
    client = make_staff("syncing.add_arrserver", "syncing.view_arrserver")
    data = {
        "kind": "sonarr", "name": "S", "base_url": "http://sonarr:8989", "api_key": "k",
        "plex_server": plex_server.pk, "path_mappings": '["/tv"]',
    }  # fmt: skip
    resp = client.post(f"{CHANGELIST}add/", data)
    assert resp.status_code == 200
    assert "[arr prefix, Plex prefix] pairs" in resp.content.decode()
    assert not ArrServer.objects.exists()


def test_env_creates_both_connections(settings, plex_server):
    from syncing.services.connections import connections_sync_from_env

    settings.RADARR_URL, settings.RADARR_API_KEY = "http://radarr:7878/", "rk"
    settings.SONARR_URL, settings.SONARR_API_KEY = "http://sonarr:8989", "sk"
    connections_sync_from_env()
    connections_sync_from_env()  # idempotent
    rows = ArrServer.objects.order_by("kind")
    assert [(s.kind, s.name, s.base_url, s.plex_server) for s in rows] == [
        ("radarr", "Radarr (from environment)", "http://radarr:7878", plex_server),
        ("sonarr", "Sonarr (from environment)", "http://sonarr:8989", plex_server),
    ]
