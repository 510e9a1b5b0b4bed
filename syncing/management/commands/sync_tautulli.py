"""`manage.py sync_tautulli [--full] [--days-back N] [--server NAME]`: a thin caller of the sync."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from syncing.models import SyncRun, TautulliServer
from syncing.runs import SyncAlreadyRunning
from syncing.selectors import tautulli_servers_for_sync
from syncing.services.connections import connections_none_reason, connections_sync_from_env
from syncing.services.tautulli_sync import tautulli_history_sync


class Command(BaseCommand):
    help = "Import Tautulli watch history (incremental by default) and refresh item statistics."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--full", action="store_true", help="re-read everything, rebuild stats")
        parser.add_argument("--days-back", type=int, default=None, help="limit a first import")
        parser.add_argument("--server", default=None, help="only this Tautulli server (name)")

    def handle(self, *args, full: bool, days_back: int | None, server: str | None, **options):
        self.quiet = options.get("verbosity", 1) == 0
        connections_sync_from_env()
        servers = tautulli_servers_for_sync()
        if server:
            servers = list(TautulliServer.objects.filter(name=server))
            if not servers:
                raise CommandError(f"No Tautulli server named {server!r}.")
        if not servers:
            raise CommandError(
                connections_none_reason(
                    system="Tautulli",
                    url_var="TAUTULLI_URL",
                    key_var="TAUTULLI_API_KEY",
                    model=TautulliServer,
                )
            )
        failures = [
            f"{t.name}: {run.error}"
            for t in servers
            if (run := self._sync(t, full=full, days_back=days_back)).status
            == SyncRun.Status.FAILED
        ]
        if failures:
            raise CommandError("Tautulli sync failed – " + "; ".join(failures))

    def _sync(self, tautulli: TautulliServer, *, full: bool, days_back: int | None) -> SyncRun:
        bar = tqdm(desc=tautulli.name, unit="day", file=self.stderr, disable=self.quiet)
        try:
            run = tautulli_history_sync(
                tautulli=tautulli, full=full, days_back=days_back, trigger="command",
                on_progress=lambda r: _bar_update(bar, r),
            )  # fmt: skip
        except SyncAlreadyRunning as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        self.stdout.write(
            f"{tautulli.name}: {run.status} – {run.rows_fetched} rows fetched, "
            f"{run.rows_created} new plays, {run.items_updated} items updated, "
            f"{run.unmatched} unmatched, {run.requests_made} requests"
        )
        return run


def _bar_update(bar: tqdm, run: SyncRun) -> None:
    bar.total = run.progress_total
    bar.n = run.progress_done
    bar.set_postfix(rows=run.rows_fetched, refresh=False)
    bar.refresh()
