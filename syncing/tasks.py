"""django-q2 tasks: take ids, load rows, call the service (the schedule and "Sync now")."""

from __future__ import annotations

import logging

from syncing.models import SyncRun, TautulliServer
from syncing.runs import SyncAlreadyRunning, sync_run_finish
from syncing.services.operations import sync_all, sync_run_execute

logger = logging.getLogger(__name__)


def sync_all_task(trigger: str = "schedule") -> list[int]:
    return [run.pk for run in sync_all(trigger=trigger)]


def sync_runs_task(run_ids: list[int]) -> list[str]:
    """Run queued SyncRuns in the given order; one failing never stops the next."""
    outcomes = []
    for run in sorted(SyncRun.objects.filter(pk__in=run_ids), key=lambda r: run_ids.index(r.pk)):
        try:
            outcomes.append(sync_run_execute(run=run).status)
        except SyncAlreadyRunning as exc:
            logger.info("Run #%s not started: %s", run.pk, exc)
            outcomes.append("skipped")
        except Exception as exc:  # the services record their own failures; this is a guard
            logger.exception("Run #%s crashed", run.pk)
            if SyncRun.objects.filter(pk=run.pk, status__in=SyncRun.ACTIVE_STATUSES).exists():
                sync_run_finish(run, error=f"Crashed: {type(exc).__name__}: {exc}")
            outcomes.append("failed")
    return outcomes


def tautulli_item_sync_task(tautulli_id: int, rating_key: int) -> int:
    from syncing.services.tautulli_sync import tautulli_item_sync

    tautulli = TautulliServer.objects.get(pk=tautulli_id)
    return tautulli_item_sync(tautulli=tautulli, rating_key=rating_key)
