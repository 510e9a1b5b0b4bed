"""Upgrade path: a `tautulli_item` run queued before the `rating_key` → `plex_id` rename
(migration 0007) is rewritten by 0010 so the worker can still run it; finished runs keep
their old inputs, and the migration reverses."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("syncing", "0006_rollup_indexes")
AFTER = ("syncing", "0010_item_runs_plex_id")


def _migrate(target: tuple[str, str]):
    """Migrate the syncing app to `target` and return the historical apps at that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def _run(apps, *, status: str, inputs: dict):
    plex = apps.get_model("media", "PlexServer").objects.create(
        name=f"p-{status}", base_url="http://127.0.0.1:1", token="t"
    )
    server = apps.get_model("syncing", "TautulliServer").objects.create(
        name=f"t-{status}", base_url="http://127.0.0.1:1", api_key="k", plex_server_id=plex.pk
    )
    return apps.get_model("syncing", "SyncRun").objects.create(
        kind="tautulli_item",
        tautulli_server=server,
        lock_key=f"tautulli_item:{server.pk}:{inputs.get('rating_key', 0)}:{status}",
        status=status,
        inputs=inputs,
    )


@pytest.mark.django_db(transaction=True)
def test_queued_item_run_gets_plex_id_and_finished_runs_stay():
    old_apps = _migrate(BEFORE)
    queued = _run(old_apps, status="queued", inputs={"rating_key": 123})
    done = _run(old_apps, status="success", inputs={"rating_key": 456})
    try:
        SyncRun = _migrate(AFTER).get_model("syncing", "SyncRun")
        assert SyncRun.objects.get(pk=queued.pk).inputs == {"plex_id": 123}
        assert SyncRun.objects.get(pk=done.pk).inputs == {"rating_key": 456}

        SyncRun = _migrate(("syncing", "0009_group_plex_id")).get_model("syncing", "SyncRun")
        assert SyncRun.objects.get(pk=queued.pk).inputs == {"rating_key": 123}
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
