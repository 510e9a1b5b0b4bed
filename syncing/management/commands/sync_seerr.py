"""`manage.py sync_seerr [--server NAME]`: read every Seerr request; a thin caller of the sync."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from syncing.models import SeerrServer, SyncRun
from syncing.runs import SyncAlreadyRunning
from syncing.selectors import seerr_servers_for_sync
from syncing.services.connections import connections_none_reason, connections_sync_from_env
from syncing.services.seerr_sync import seerr_sync


class Command(BaseCommand):
    help = "Read every request from Seerr (Overseerr / Jellyseerr) and link it to the library."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--server", default=None, help="only this Seerr server (name)")

    def handle(self, *args, server: str | None, **options) -> None:
        connections_sync_from_env()
        servers = seerr_servers_for_sync()
        if server:
            servers = list(SeerrServer.objects.filter(name=server))
            if not servers:
                raise CommandError(f"No Seerr server named {server!r}.")
        if not servers:
            raise CommandError(
                connections_none_reason(
                    system="Seerr", url_var="SEERR_URL", key_var="SEERR_API_KEY", model=SeerrServer
                )
            )
        runs = [self._sync(seerr) for seerr in servers]
        failures = [
            f"{r.target.name}: {r.error}" for r in runs if r.status == SyncRun.Status.FAILED
        ]
        if failures:
            raise CommandError("Seerr sync failed – " + "; ".join(failures))

    def _sync(self, seerr: SeerrServer) -> SyncRun:
        try:
            run = seerr_sync(seerr=seerr, trigger="command")
        except SyncAlreadyRunning as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{seerr.name}: {run.status} – {run.rows_fetched} requests, {run.rows_created} new, "
            f"{run.items_updated} changed, {run.items_gone} removed, "
            f"{run.unmatched} not in the library, {run.requests_made} requests made"
        )
        return run
