"""Runs and requests left behind by a worker that died in the middle of an execution.

A run refreshes its heartbeat after every group. One silent for SYNC_STALE_MINUTES is
failed, like a stale sync run, and each request it had claimed without recording an
outcome goes to "needs check": nobody knows whether its removal reached Plex. The next
execution first asks Plex whether each such item still exists: gone → recorded as
deleted; still there → back to approved (and so executed again, with every check).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from deletion.models import AuditLog, DeletionRequest, DeletionRun, Level
from deletion.services import audit_write
from media.locks import media_items_write_lock
from media.models import MediaItem, PlexServer
from syncing.clients.plex import PlexClient, PlexError

logger = logging.getLogger(__name__)

Status = DeletionRequest.Status
STALE_RUN = "Stale: the worker stopped reporting progress (killed or crashed)."
UNKNOWN_OUTCOME = "Its run ended before recording an outcome; Plex is asked on the next run."


def deletion_run_is_stale(run: DeletionRun, *, now: datetime | None = None) -> bool:
    """Running, but silent for longer than SYNC_STALE_MINUTES (its worker is gone)."""
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.SYNC_STALE_MINUTES)
    return run.status == DeletionRun.Status.RUNNING and run.heartbeat_at < cutoff


def deletion_runs_fail_stale(*, now: datetime | None = None) -> int:
    """Fail every stale run and send its unfinished requests to "needs check"."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.SYNC_STALE_MINUTES)
    stale = DeletionRun.objects.filter(status=DeletionRun.Status.RUNNING, heartbeat_at__lt=cutoff)
    ids = list(stale.values_list("pk", flat=True))
    for run_id in ids:
        deletion_run_abandon(run_id=run_id, error=STALE_RUN, now=now)
    return len(ids)


def deletion_run_abandon(*, run_id: int, error: str, now: datetime | None = None) -> None:
    """Close a run that cannot go on; what it claimed and did not finish needs a check."""
    now = now or timezone.now()
    with transaction.atomic():
        DeletionRequest.objects.filter(run_id=run_id, status=Status.RUNNING).update(
            status=Status.NEEDS_CHECK, error=UNKNOWN_OUTCOME
        )
        DeletionRun.objects.filter(pk=run_id, status=DeletionRun.Status.RUNNING).update(
            status=DeletionRun.Status.FAILED, error=error, finished_at=now, heartbeat_at=now
        )


def stranded_requests_resolve(*, user, client_for: Callable[[PlexServer], PlexClient]) -> int:
    """Ask Plex about every "needs check" request and record the truth; returns how many
    were resolved (a Plex that cannot answer leaves its requests for the next run)."""
    resolved = 0
    stranded = DeletionRequest.objects.filter(status=Status.NEEDS_CHECK).select_related("server")
    for request in stranded.order_by("pk"):
        try:
            exists = client_for(request.server).item_exists(request.plex_id)
        except PlexError as exc:
            logger.warning("Cannot check request %s in Plex: %s", request.pk, exc)
            continue
        resolved += _resolve(request, exists=exists, user=user)
    return resolved


def _resolve(request: DeletionRequest, *, exists: bool, user) -> int:
    now = timezone.now()
    status = Status.APPROVED if exists else Status.DELETED
    with transaction.atomic():
        changed = DeletionRequest.objects.filter(pk=request.pk, status=Status.NEEDS_CHECK).update(
            status=status, error="", executed_at=None if exists else now
        )
        if not changed:
            return 0
        if not exists:
            request_items_mark_gone(request, now)
        audit_write(
            action=AuditLog.Action.APPROVE if exists else AuditLog.Action.EXECUTE,
            user=user,
            request=request,
            message="After an interrupted run: "
            + (
                "still in Plex, back in the queue."
                if exists
                else "gone from Plex, recorded as deleted."
            ),
        )
    return 1


@transaction.atomic
def request_items_mark_gone(request: DeletionRequest, now: datetime) -> int:
    """Mark the group's rows (the item, and for a show or season everything below) gone.

    Under the server's media_items write lock, like every bulk writer of those rows, so a
    sync running at the same time cannot deadlock with it.
    """
    media_items_write_lock(server_id=request.server_id)
    key = request.plex_id
    q = Q(plex_id=key)
    if request.level == Level.SHOW:
        q |= Q(grandparent_plex_id=key) | Q(type=MediaItem.MediaType.SEASON, parent_plex_id=key)
    elif request.level == Level.SEASON:
        q |= Q(parent_plex_id=key)
    return MediaItem.objects.filter(q, server_id=request.server_id, removed_at__isnull=True).update(
        removed_at=now
    )
