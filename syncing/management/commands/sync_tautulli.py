"""`manage.py sync_tautulli [--full] [--days-back N] [--server NAME]`: a thin caller of the sync."""

from __future__ import annotations

from tqdm import tqdm

from syncing.management.base import ConnectionsCommand
from syncing.models import SyncRun, TautulliServer
from syncing.services.tautulli_sync import tautulli_history_sync


class Command(ConnectionsCommand):
    help = "Import Tautulli watch history (incremental by default) and refresh item statistics."
    kind, model, system = "tautulli", TautulliServer, "Tautulli"
    env = ("TAUTULLI_URL", "TAUTULLI_API_KEY")
    failed_prefix = "Tautulli sync failed – "

    def add_options(self, parser) -> None:
        parser.add_argument("--full", action="store_true", help="re-read everything, rebuild stats")
        parser.add_argument("--days-back", type=int, default=None, help="limit a first import")

    def sync_one(
        self, tautulli: TautulliServer, *, full: bool, days_back: int | None, **options
    ) -> SyncRun:
        quiet = options.get("verbosity", 1) == 0
        bar = tqdm(desc=tautulli.name, unit="day", file=self.stderr, disable=quiet)
        try:
            run = tautulli_history_sync(
                tautulli=tautulli, full=full, days_back=days_back, trigger="command",
                on_progress=lambda r: _bar_update(bar, r),
            )  # fmt: skip
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
