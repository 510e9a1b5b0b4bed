"""Running syncs: the `sync_all` pipeline, "Sync now" requests and the recovery of runs
left by dead workers, all through syncing.runs.

A "Sync now" request queues its runs right away (the queued row is the lock, so a second
click is refused and the page can link to the run); the worker then executes them in
order, Plex before Tautulli, so new items exist before history is matched to them. None of
this trusts the broker to deliver a task exactly once (docs/deployment.md).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from media.locks import run_queue_lock
from syncing.kinds import RUN_KINDS
from syncing.models import SyncRun
from syncing.runs import (
    STALE_ERROR,
    SyncAlreadyRunning,
    run_execute,
    run_queue,
    runs_enqueue,
    sync_runs_fail_stale,
)
from syncing.services.connections import connections_sync_from_env

logger = logging.getLogger(__name__)

Target = tuple[str, object]  # (kind, server record)


def sync_targets(*, kinds: list[str] | None = None) -> list[Target]:
    """Every (kind, enabled target) that `sync_all` runs, in pipeline order."""
    return [
        (kind, target)
        for kind, spec in RUN_KINDS.items()
        if kinds is None or kind in kinds
        for target in spec.enabled_targets()
    ]


def sync_all(*, trigger: str = "", kinds: list[str] | None = None) -> list[SyncRun]:
    """Run every kind on every enabled target, inline, in pipeline order; a busy target is
    skipped, a failing one doesn't stop the rest.

    Every run is queued before the first starts, so the queued rows hold every lock of the
    pipeline from the beginning: a second `sync_all` (a task delivered twice, a manual run)
    finds them taken and cannot slip a Tautulli import in before this Plex sync is done.
    """
    connections_sync_from_env()
    queued, refused = runs_queue_together(sync_targets(kinds=kinds), trigger=trigger)
    for exc in refused:
        logger.info("A sync skipped: %s", exc)
    return runs_execute_in_order(queued)


def runs_queue_together(
    targets: list[Target], *, trigger: str = "", inputs: dict | None = None
) -> tuple[list[SyncRun], list[SyncAlreadyRunning]]:
    """Queue a run per target as one step; returns the queued runs and the refusals.

    Two requests at once (two web processes, two `sync_all`) queued one by one could
    interleave: one takes the Plex lock, the other the Tautulli one, and the Tautulli import
    runs beside the Plex sync. One transaction, serialized across processes (SQLite's
    IMMEDIATE transactions; an advisory lock on PostgreSQL), so the second finds every lock
    of the first taken.
    """
    queued: list[SyncRun] = []
    refused: list[SyncAlreadyRunning] = []
    with transaction.atomic():
        run_queue_lock()
        for kind, target in targets:
            try:
                queued.append(run_queue(kind=kind, target=target, trigger=trigger, inputs=inputs))
            except SyncAlreadyRunning as exc:
                refused.append(exc)
    return queued, refused


def runs_execute_in_order(runs: list[SyncRun]) -> list[SyncRun]:
    """Execute queued runs one after the other; returns those this call executed.

    When one is no longer queued, another worker (an earlier delivery of the same task)
    has it and goes on in order after it: this call stops there and leaves the rest to it,
    so a Tautulli import never starts before the Plex sync queued ahead of it is done.
    While one runs, its heartbeat also refreshes the runs still waiting behind it, so a
    long first run does not make them look abandoned.
    """
    done = []
    for index, run in enumerate(runs):
        waiting = [later.pk for later in runs[index + 1 :]]
        try:
            done.append(run_execute(run, on_progress=_keep_alive(waiting)))
        except SyncAlreadyRunning as exc:
            logger.info(
                "Run #%s and the %s after it left to their worker: %s", run.pk, len(waiting), exc
            )
            break
    return done


def _keep_alive(run_ids: list[int]):
    def touch(_run: SyncRun) -> None:
        if run_ids:
            SyncRun.objects.filter(pk__in=run_ids, status=SyncRun.Status.QUEUED).update(
                heartbeat_at=timezone.now()
            )

    return touch


def runs_recover(*, trigger: str = "retry") -> list[SyncRun]:
    """Fail the runs of dead workers and queue each again, in pipeline order, for a worker.

    Called every minute by a schedule: with Redis a killed worker's task is gone for good
    (at-most-once), and with the ORM broker it comes back only after `retry`; either way
    the run is retried within a minute of going stale. The lock decides between two
    recoverers: only one retry of a run can be queued.
    """
    sync_runs_fail_stale()
    queued = []
    for run in _stale_runs_not_retried():
        with suppress(SyncAlreadyRunning):
            queued.append(
                run_queue(kind=run.kind, target=run.target, trigger=trigger, inputs=run.inputs)
            )
    runs_enqueue(queued)
    return queued


def _stale_runs_not_retried() -> list[SyncRun]:
    """Runs failed as stale in the last day with no later run on their lock, in order."""
    later = SyncRun.objects.filter(lock_key=OuterRef("lock_key"), pk__gt=OuterRef("pk"))
    runs = SyncRun.objects.filter(
        status=SyncRun.Status.FAILED,
        error=STALE_ERROR,
        finished_at__gte=timezone.now() - timedelta(days=1),
    ).exclude(Exists(later))
    order = list(RUN_KINDS)
    return sorted(runs, key=lambda run: (order.index(run.kind), run.pk))


def sync_now_request(
    *, targets: list[Target], trigger: str = "admin", inputs: dict | None = None
) -> tuple[list[SyncRun], list[SyncAlreadyRunning]]:
    """Queue a run per target and one worker task that executes them in order.

    Returns the queued runs and the refusals (a run of that kind already holds the lock).
    """
    queued, refused = runs_queue_together(targets, trigger=trigger, inputs=inputs)
    runs_enqueue(queued)
    return queued, refused


def sync_now_all(*, trigger: str = "admin") -> tuple[list[SyncRun], list[SyncAlreadyRunning]]:
    """ "Sync now" for everything enabled (the header / index button)."""
    connections_sync_from_env()
    return sync_now_request(targets=sync_targets(), trigger=trigger)
