"""SyncRun lifecycle: claim the per-server lock, report progress, finish.

The lock is the partial unique constraint on `SyncRun.lock_key` among running rows, so a
second start while one runs fails on both SQLite and PostgreSQL. A running row whose
heartbeat is older than SYNC_STALE_MINUTES belongs to a dead worker and is failed first.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from syncing.models import SyncRun


class SyncAlreadyRunning(Exception):
    """Another sync of the same kind holds the lock for this server."""

    def __init__(self, run: SyncRun | None, lock_key: str):
        self.run = run
        self.lock_key = lock_key
        where = f" (run #{run.pk}, started {run.started_at:%Y-%m-%d %H:%M})" if run else ""
        super().__init__(f"A {lock_key.split(':')[0]} sync is already running{where}.")


def lock_key_for(kind: str, server_pk: int) -> str:
    return f"{kind}:{server_pk}"


def sync_runs_fail_stale(*, now=None) -> int:
    """Mark running rows whose worker stopped heart-beating as failed; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.SYNC_STALE_MINUTES)
    return SyncRun.objects.filter(
        status__in=SyncRun.ACTIVE_STATUSES, heartbeat_at__lt=cutoff
    ).update(
        status=SyncRun.Status.FAILED,
        finished_at=now,
        error="Stale: the worker stopped reporting progress (killed or crashed).",
    )


def _active(key: str):
    return SyncRun.objects.filter(lock_key=key, status__in=SyncRun.ACTIVE_STATUSES)


def sync_run_start(
    *,
    kind: str,
    plex_server=None,
    tautulli_server=None,
    trigger: str = "",
    options: dict | None = None,
    run_id: int | None = None,
    status: str = SyncRun.Status.RUNNING,
) -> SyncRun:
    """Claim the per-server lock: a new SyncRun (running, or queued for "Sync now").

    With `run_id`, adopt a run queued earlier (queued → running, one conditional UPDATE,
    so two workers can never both run it). Raises SyncAlreadyRunning when the lock is held.
    """
    if run_id is not None:
        return _sync_run_adopt(run_id)
    server = plex_server if kind == SyncRun.Kind.PLEX else tautulli_server
    key = lock_key_for(kind, server.pk)
    sync_runs_fail_stale()
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                kind=kind,
                plex_server=plex_server,
                tautulli_server=tautulli_server,
                lock_key=key,
                trigger=trigger,
                options=options or {},
                status=status,
            )
    except IntegrityError:
        raise SyncAlreadyRunning(_active(key).first(), key) from None


def _sync_run_adopt(run_id: int) -> SyncRun:
    now = timezone.now()
    claimed = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    run = SyncRun.objects.get(pk=run_id)
    if not claimed:
        raise SyncAlreadyRunning(run, run.lock_key)
    return run


def sync_run_progress(run: SyncRun, **fields) -> None:
    """Persist counters/progress on the run and refresh its heartbeat (one UPDATE)."""
    fields["heartbeat_at"] = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    SyncRun.objects.filter(pk=run.pk).update(**fields)


def sync_run_finish(run: SyncRun, *, error: str = "", **fields) -> SyncRun:
    """Close the run as success (no error) or failed (with the reason); releases the lock."""
    now = timezone.now()
    fields.update(
        status=SyncRun.Status.FAILED if error else SyncRun.Status.SUCCESS,
        error=error,
        finished_at=now,
        heartbeat_at=now,
    )
    for name, value in fields.items():
        setattr(run, name, value)
    SyncRun.objects.filter(pk=run.pk).update(**fields)
    return run
