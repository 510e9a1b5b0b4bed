"""`migrate` and every worker start keep the env connections (and the schedule) current;
`run_finished` lets apps that syncing must not import act after each run."""

from __future__ import annotations

from django.db import connections
from django.db.models.signals import post_migrate
from django.dispatch import Signal, receiver
from django_q.signals import post_spawn

# Sent by syncing.runs after every run ends, with `run` (a finished SyncRun, success or
# failed). The dashboard takes its storage snapshot here.
run_finished = Signal()


@receiver(post_migrate)
def after_migrate(sender, app_config=None, using="default", plan=None, **kwargs) -> None:
    if app_config is None or app_config.label != "syncing":
        return
    if plan:
        _sqlite_statistics_restore(using)
    from syncing.services.connections import connections_sync_from_env
    from syncing.services.schedules import schedules_ensure

    connections_sync_from_env()
    schedules_ensure()


@receiver(post_spawn)
def worker_started(sender, proc_name: str = "", **kwargs) -> None:
    """Each django-q2 worker applies the connections from the environment as it starts."""
    from syncing.services.connections import connections_apply_on_start

    connections_apply_on_start()


def _sqlite_statistics_restore(using: str) -> None:
    """Re-analyze an SQLite database whose statistics a migration may have dropped.

    SQLite alters a table by copying it, and the copy has no planner statistics, so until
    the next ANALYZE the pages can pick a worse index (the people page's by-episode query
    went from 96 to 158 ms after the rollup tables were rebuilt). Databases analyzed before
    (sqlite_stat1 exists) are re-analyzed, and so is one that holds a library but was never
    analyzed (the syncs did not, before media.statistics). A new, empty one is left alone:
    its statistics would say every table is empty until the first syncs analyze it.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        analyzed = cursor.fetchone() is not None
        cursor.execute("SELECT 1 FROM media_items LIMIT 1")
        if analyzed or cursor.fetchone():
            cursor.execute("ANALYZE")
