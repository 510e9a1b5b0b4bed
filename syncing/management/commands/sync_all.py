"""`manage.py sync_all`: the scheduled pipeline, by hand (Plex, then Tautulli)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from syncing.models import SyncRun
from syncing.services.operations import sync_all


class Command(BaseCommand):
    help = "Sync every enabled Plex server, then Tautulli, then Radarr/Sonarr."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--trigger", default="command", help="Recorded on each SyncRun.")

    def handle(self, *args, trigger: str, **options) -> None:
        runs = sync_all(trigger=trigger)
        if not runs:
            self.stdout.write("Nothing to sync: no enabled Plex or Tautulli server is configured.")
            return
        for run in runs:
            line = f"{run.get_kind_display()} · {run.target}: {run.status}"
            if run.status == SyncRun.Status.SUCCESS:
                self.stdout.write(self.style.SUCCESS(line))
            else:
                self.stdout.write(self.style.ERROR(f"{line} — {run.error}"))
        failed = [run for run in runs if run.status != SyncRun.Status.SUCCESS]
        if failed:
            raise CommandError(f"{len(failed)} of {len(runs)} syncs failed.")
