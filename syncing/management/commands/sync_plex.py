"""`manage.py sync_plex [--server NAME] [--changed]`: mirror the Plex library, with a
progress bar; `--changed` reads only what changed since the last run (the light sync)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from media.models import PlexServer
from syncing.models import SyncRun
from syncing.runs import SyncAlreadyRunning
from syncing.selectors import plex_servers_for_sync
from syncing.services.connections import connections_none_reason, connections_sync_from_env
from syncing.services.plex_changes import plex_changes_run
from syncing.services.plex_sync import plex_library_sync


class Command(BaseCommand):
    help = "Mirror the libraries of every enabled Plex server (or --server NAME) into SmartPlex."

    def add_arguments(self, parser):
        parser.add_argument(
            "--server", help="Name of the Plex server to sync (default: all enabled)"
        )
        parser.add_argument(
            "--changed",
            action="store_true",
            help="Only items added or updated since the last run; marks nothing gone",
        )

    def handle(self, *args, server: str | None = None, changed: bool = False, **options):
        self.changed = changed
        connections_sync_from_env()
        servers = plex_servers_for_sync()
        if server:
            servers = list(PlexServer.objects.filter(name=server))
            if not servers:
                raise CommandError(f"No Plex server named {server!r}.")
        if not servers:
            raise CommandError(
                connections_none_reason(
                    system="Plex", url_var="PLEX_URL", key_var="PLEX_TOKEN", model=PlexServer
                )
            )
        failures = [
            run for run in map(self._sync_one, servers) if run.status != SyncRun.Status.SUCCESS
        ]
        if failures:
            raise CommandError("; ".join(f"{r.plex_server.name}: {r.error}" for r in failures))

    def _sync_one(self, server: PlexServer) -> SyncRun:
        with tqdm(desc=server.name, unit="item", file=self.stderr._out, mininterval=0.5) as bar:

            def show(run: SyncRun) -> None:
                bar.total = run.progress_total
                bar.set_postfix_str(run.progress_label, refresh=False)
                bar.update(run.progress_done - bar.n)

            sync = plex_changes_run if self.changed else plex_library_sync
            try:
                run = sync(server=server, trigger="command", on_progress=show)
            except SyncAlreadyRunning as exc:
                if self.changed:  # the next light sync will catch up; not an error
                    self.stdout.write(f"{server.name}: light sync skipped - {exc}")
                    return SyncRun(status=SyncRun.Status.SUCCESS)
                raise CommandError(f"{server.name}: {exc}") from None
        self.stdout.write(_summary(run))
        return run


def _summary(run: SyncRun) -> str:
    status = "OK" if run.status == SyncRun.Status.SUCCESS else "FAILED"
    return (
        f"{run.plex_server.name}: {status} in {run.duration.total_seconds():.1f}s - "
        f"{run.items_seen} seen, {run.items_created} created, {run.items_updated} updated, "
        f"{run.items_gone} gone; {run.pages_fetched} pages, {run.requests_made} requests"
        + (f" - {run.error}" if run.error else "")
    )
