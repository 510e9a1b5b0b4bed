"""`manage.py sync_arr [--server NAME]`: read Radarr/Sonarr and link what they hold to Plex."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from syncing.models import ArrServer, SyncRun
from syncing.runs import SyncAlreadyRunning, run_now
from syncing.selectors import arr_servers_for_sync
from syncing.services.connections import connections_none_reason, connections_sync_from_env


class Command(BaseCommand):
    help = "Read every enabled Radarr/Sonarr (or --server NAME) and link it to the Plex mirror."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--server", help="Name of the Radarr/Sonarr connection to sync")

    def handle(self, *args, server: str | None = None, **options) -> None:
        connections_sync_from_env()
        servers = arr_servers_for_sync()
        if server:
            servers = list(ArrServer.objects.filter(name=server))
            if not servers:
                raise CommandError(f"No Radarr/Sonarr connection named {server!r}.")
        if not servers:
            reason = connections_none_reason(
                system="Radarr/Sonarr", url_var="RADARR_URL", key_var="RADARR_API_KEY",
                model=ArrServer,
            )  # fmt: skip
            raise CommandError(reason)
        failures = [run for run in map(self._sync_one, servers) if run.status != "success"]
        if failures:
            raise CommandError("; ".join(f"{r.arr_server.name}: {r.error}" for r in failures))

    def _sync_one(self, server: ArrServer) -> SyncRun:
        try:
            run = run_now(kind=SyncRun.Kind.ARR, target=server, trigger="command")
        except SyncAlreadyRunning as exc:
            raise CommandError(f"{server.name}: {exc}") from None
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
