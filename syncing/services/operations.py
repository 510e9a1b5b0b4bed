"""Running syncs: the `sync_all` pipeline and "Sync now" requests (queued, locked runs).

A request creates its SyncRuns as *queued* right away, so a second click is refused by the
lock and the page can link to the run; the worker then adopts them in order (Plex before
Tautulli, so new items exist before history is matched to them).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django_q.tasks import async_task

from media.models import PlexServer
from syncing.models import SyncRun, TautulliServer
from syncing.runs import SyncAlreadyRunning, sync_run_start
from syncing.services.connections import connections_sync_from_env

logger = logging.getLogger(__name__)


def sync_run_execute(*, run: SyncRun) -> SyncRun:
    """Run one queued SyncRun with the service of its kind."""
    from syncing.services.plex_sync import plex_library_sync
    from syncing.services.tautulli_sync import tautulli_history_sync

    if run.kind == SyncRun.Kind.PLEX:
        return plex_library_sync(server=run.plex_server, trigger=run.trigger, run_id=run.pk)
    return tautulli_history_sync(
        tautulli=run.tautulli_server, trigger=run.trigger, run_id=run.pk, **run.options
    )


def sync_all(*, trigger: str = "") -> list[SyncRun]:
    """Plex then Tautulli, for every enabled server; a busy or failing server is skipped."""
    from syncing.services.plex_sync import plex_library_sync
    from syncing.services.tautulli_sync import tautulli_history_sync

    connections_sync_from_env()
    runs: list[SyncRun] = []
    for server in PlexServer.objects.filter(enabled=True):
        try:
            runs.append(plex_library_sync(server=server, trigger=trigger))
        except SyncAlreadyRunning as exc:
            logger.info("Skipping Plex sync of %s: %s", server, exc)
    for tautulli in TautulliServer.objects.filter(enabled=True, plex_server__enabled=True):
        try:
            runs.append(tautulli_history_sync(tautulli=tautulli, trigger=trigger))
        except SyncAlreadyRunning as exc:
            logger.info("Skipping Tautulli sync of %s: %s", tautulli, exc)
    return runs


def sync_now_request(
    *,
    plex_servers=(),
    tautulli_servers=(),
    trigger: str = "admin",
    tautulli_options: dict | None = None,
) -> tuple[list[SyncRun], list[SyncAlreadyRunning]]:
    """Queue syncs for the given servers and enqueue one task that runs them in order.

    Returns the queued runs and the refusals (a sync of that kind already holds the lock).
    """
    queued: list[SyncRun] = []
    refused: list[SyncAlreadyRunning] = []
    targets = [(SyncRun.Kind.PLEX, s) for s in plex_servers] + [
        (SyncRun.Kind.TAUTULLI, t) for t in tautulli_servers
    ]
    for kind, server in targets:
        try:
            queued.append(
                sync_run_start(
                    kind=kind,
                    plex_server=server if kind == SyncRun.Kind.PLEX else None,
                    tautulli_server=server if kind == SyncRun.Kind.TAUTULLI else None,
                    trigger=trigger,
                    options=(tautulli_options or {}) if kind == SyncRun.Kind.TAUTULLI else {},
                    status=SyncRun.Status.QUEUED,
                )
            )
        except SyncAlreadyRunning as exc:
            refused.append(exc)
    if queued:
        run_ids = [run.pk for run in queued]
        transaction.on_commit(lambda: async_task("syncing.tasks.sync_runs_task", run_ids))
    return queued, refused


def sync_now_all(*, trigger: str = "admin") -> tuple[list[SyncRun], list[SyncAlreadyRunning]]:
    """ "Sync now" for everything enabled (the header / index button)."""
    connections_sync_from_env()
    return sync_now_request(
        plex_servers=PlexServer.objects.filter(enabled=True),
        tautulli_servers=TautulliServer.objects.filter(enabled=True, plex_server__enabled=True),
        trigger=trigger,
    )
