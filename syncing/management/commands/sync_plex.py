"""`manage.py sync_plex [--server NAME] [--changed]`: mirror the Plex library, with a
progress bar; `--changed` reads only what changed since the last run (the light sync)."""

from __future__ import annotations

from tqdm import tqdm

from media.models import PlexServer
from syncing.management.base import ConnectionsCommand
from syncing.models import SyncRun
from syncing.runs import SyncAlreadyRunning
from syncing.services.plex_changes import plex_changes_run
from syncing.services.plex_sync import plex_library_sync


class Command(ConnectionsCommand):
    help = "Mirror the libraries of every enabled Plex server (or --server NAME) into SmartPlex."
    kind, model, system, env = "plex", PlexServer, "Plex", ("PLEX_URL", "PLEX_TOKEN")

    def add_options(self, parser) -> None:
        parser.add_argument(
            "--changed",
            action="store_true",
            help="Only items added or updated since the last run; marks nothing gone",
        )

    def sync_one(self, server: PlexServer, *, changed: bool = False, **options) -> SyncRun:
        with tqdm(desc=server.name, unit="item", file=self.stderr._out, mininterval=0.5) as bar:

            def show(run: SyncRun) -> None:
                bar.total = run.progress_total
                bar.set_postfix_str(run.progress_label, refresh=False)
                bar.update(run.progress_done - bar.n)

            sync = plex_changes_run if changed else plex_library_sync
            try:
                run = sync(server=server, trigger="command", on_progress=show)
            except SyncAlreadyRunning as exc:
                if not changed:
                    raise
                # The next light sync will catch up; not an error.
                self.stdout.write(f"{server.name}: light sync skipped - {exc}")
                return SyncRun(status=SyncRun.Status.SUCCESS)
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
