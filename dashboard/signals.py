"""After every sync that refreshes the library, storage or statistics (the kinds `sync_all`
runs), refresh the dashboard's pre-aggregates and check the storage threshold."""

from __future__ import annotations

from django.dispatch import receiver

from dashboard.services import dashboard_refresh
from dashboard.threshold import threshold_check
from syncing.kinds import run_kind
from syncing.models import SyncRun
from syncing.signals import run_finished


@receiver(run_finished)
def after_sync(sender, run: SyncRun, **kwargs) -> None:
    """Successful runs only; a webhook's one-item run (no targets of its own) is left to
    the next full sync rather than re-aggregating on every play."""
    kind = run_kind(run.kind)
    if run.status != SyncRun.Status.SUCCESS or not kind.targets:
        return
    if not kind.library and not run.details.get("capacity_changed"):
        return  # e.g. sync_arr: only a new capacity changes the snapshot
    snapshot = dashboard_refresh()
    threshold_check(snapshot=snapshot)
