"""`manage.py sync_seerr [--server NAME]`: read every Seerr request; a thin caller of the sync."""

from __future__ import annotations

from syncing.management.base import ConnectionsCommand
from syncing.models import SeerrServer, SyncRun
from syncing.services.seerr_sync import seerr_sync


class Command(ConnectionsCommand):
    help = "Read every request from Seerr (Overseerr / Jellyseerr) and link it to the library."
    kind, model, system, env = "seerr", SeerrServer, "Seerr", ("SEERR_URL", "SEERR_API_KEY")
    failed_prefix = "Seerr sync failed – "

    def sync_one(self, seerr: SeerrServer, **options) -> SyncRun:
        run = seerr_sync(seerr=seerr, trigger="command")
        self.stdout.write(
            f"{seerr.name}: {run.status} – {run.rows_fetched} requests, {run.rows_created} new, "
            f"{run.items_updated} changed, {run.items_gone} removed, "
            f"{run.unmatched} not in the library, {run.requests_made} requests made"
        )
        return run
