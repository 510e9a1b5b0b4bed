"""Running syncs: the `sync_all` pipeline and "Sync now" requests, all through syncing.runs.

A "Sync now" request queues its runs right away (the queued row is the lock, so a second
click is refused and the page can link to the run); the worker then executes them in
order, Plex before Tautulli, so new items exist before history is matched to them.
"""

from __future__ import annotations

import logging

from syncing.kinds import RUN_KINDS
from syncing.models import SyncRun
from syncing.runs import SyncAlreadyRunning, run_now, run_queue, runs_enqueue
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
    """Run every kind on every enabled target, inline; a busy target is skipped, a failing
    one doesn't stop the rest."""
    connections_sync_from_env()
    runs = []
    for kind, target in sync_targets(kinds=kinds):
        try:
            runs.append(run_now(kind=kind, target=target, trigger=trigger))
        except SyncAlreadyRunning as exc:
            logger.info("%s sync of %s skipped: %s", kind, target, exc)
    return runs


def sync_now_request(
    *, targets: list[Target], trigger: str = "admin", inputs: dict | None = None
) -> tuple[list[SyncRun], list[SyncAlreadyRunning]]:
    """Queue a run per target and one worker task that executes them in order.

    Returns the queued runs and the refusals (a run of that kind already holds the lock).
    """
    queued: list[SyncRun] = []
    refused: list[SyncAlreadyRunning] = []
    for kind, target in targets:
        try:
            queued.append(run_queue(kind=kind, target=target, trigger=trigger, inputs=inputs))
        except SyncAlreadyRunning as exc:
            refused.append(exc)
    runs_enqueue(queued)
    return queued, refused


def sync_now_all(*, trigger: str = "admin") -> tuple[list[SyncRun], list[SyncAlreadyRunning]]:
    """ "Sync now" for everything enabled (the header / index button)."""
    connections_sync_from_env()
    return sync_now_request(targets=sync_targets(), trigger=trigger)
