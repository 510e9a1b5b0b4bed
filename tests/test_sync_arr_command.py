"""`sync_arr`, `sync_all` and "Sync now" run the arr kind through the run skeleton."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from syncing.models import ArrItem, SyncRun
from syncing.services.operations import sync_all

pytestmark = pytest.mark.django_db


def test_sync_arr_command_records_a_run_with_unmatched_lists(radarr_server, sonarr_server, capsys):
    call_command("sync_arr")
    out = capsys.readouterr().out
    assert "Radarr HD: OK" in out and "Sonarr: OK" in out
    runs = SyncRun.objects.filter(kind=SyncRun.Kind.ARR, status="success")
    assert {r.arr_server for r in runs} == {radarr_server, sonarr_server}
    radarr_run = runs.get(arr_server=radarr_server)
    assert radarr_run.details["unmatched_in_arr"] == {"count": 0, "titles": []}
    assert radarr_run.details["unmatched_in_plex"]["count"] == 0
    assert radarr_run.items_seen == ArrItem.objects.filter(server=radarr_server).count()


def test_wrong_key_fails_the_run_with_one_line(radarr_server):
    radarr_server.api_key = "bad-key-123"
    radarr_server.save()
    with pytest.raises(CommandError) as exc:
        call_command("sync_arr", server="Radarr HD")
    run = SyncRun.objects.get(kind="arr")
    assert run.status == "failed"
    assert run.error == f"Radarr at {radarr_server.base_url} rejected the API key (401)"
    assert "bad-key-123" not in str(exc.value)


def test_no_connection_says_what_to_set(db):
    with pytest.raises(CommandError, match="RADARR_URL"):
        call_command("sync_arr")


def test_sync_all_runs_plex_then_arr(radarr_server, sonarr_server):
    runs = sync_all(trigger="test")
    kinds = [r.kind for r in runs]
    assert kinds.index("plex") < kinds.index("arr")
    assert all(r.status == "success" for r in runs if r.kind == "arr")


def test_sync_now_admin_action_queues_and_runs(
    make_staff, radarr_server, django_capture_on_commit_callbacks
):
    client = make_staff("syncing.view_arrserver", "syncing.run_sync")
    data = {"action": "sync_now", "_selected_action": [radarr_server.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/syncing/arrserver/", data)
    run = SyncRun.objects.get(kind="arr", arr_server=radarr_server)
    assert run.status == "success" and run.trigger.startswith("admin:")


def test_sync_now_needs_the_run_sync_permission(make_staff, radarr_server):
    client = make_staff("syncing.view_arrserver")
    data = {"action": "sync_now", "_selected_action": [radarr_server.pk]}
    client.post("/admin/syncing/arrserver/", data)
    assert not SyncRun.objects.filter(kind="arr").exists()
