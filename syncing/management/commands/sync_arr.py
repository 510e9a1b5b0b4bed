"""`manage.py sync_arr [--server NAME]`: read Radarr/Sonarr and link what they hold to Plex."""

from __future__ import annotations

from syncing.management.base import ConnectionsCommand
from syncing.models import ArrServer, SyncRun
from syncing.runs import run_now


class Command(ConnectionsCommand):
    help = "Read every enabled Radarr/Sonarr (or --server NAME) and link it to the Plex mirror."
    kind, model, system, noun = "arr", ArrServer, "Radarr/Sonarr", "connection"
    env = ("RADARR_URL", "RADARR_API_KEY")

    def sync_one(self, server: ArrServer, **options) -> SyncRun:
        run = run_now(kind=SyncRun.Kind.ARR, target=server, trigger="command")
        self.stdout.write(_summary(run))
        return run


def _summary(run: SyncRun) -> str:
    if run.status != SyncRun.Status.SUCCESS:
        return f"{run.arr_server.name}: FAILED - {run.error}"
    details = run.details or {}
    arr_only = details.get("unmatched_in_arr", {}).get("count", 0)
    plex_only = details.get("unmatched_in_plex", {}).get("count", 0)
    return (
        f"{run.arr_server.name}: OK in {run.duration.total_seconds():.1f}s - {run.progress_label}, "
        f"{run.items_seen} rows, {run.items_updated} linked to Plex; "
        f"{arr_only} only in {run.arr_server.get_kind_display()}, {plex_only} only in Plex; "
        f"{run.requests_made} requests"
    )
