"""`manage.py sync_seerr [--server NAME]`: read every Seerr request; a thin caller of the sync."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from syncing.clients.seerr import SeerrError
from syncing.models import SeerrServer
from syncing.services.connections import seerr_connection_from_env
from syncing.services.seerr_sync import seerr_sync


class Command(BaseCommand):
    help = "Read every request from Seerr (Overseerr / Jellyseerr) and link it to the library."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--server", default=None, help="only this Seerr server (name)")

    def handle(self, *args, server: str | None, **options) -> None:
        seerr_connection_from_env()
        servers = SeerrServer.objects.filter(enabled=True)
        if server:
            servers = SeerrServer.objects.filter(name=server)
        if not servers.exists():
            raise CommandError(
                f"No Seerr server named {server!r}." if server else "No enabled Seerr server."
            )
        failures = []
        for seerr in servers:
            try:
                result = seerr_sync(seerr=seerr)
            except SeerrError as exc:
                failures.append(f"{seerr.name}: {exc}")
                continue
            self.stdout.write(
                f"{seerr.name}: {result.fetched} requests ({result.created} new, "
                f"{result.updated} changed, {result.removed} removed), "
                f"{result.requests_made} requests made"
            )
        if failures:
            raise CommandError("Seerr sync failed – " + "; ".join(failures))
