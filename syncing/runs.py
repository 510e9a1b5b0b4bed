"""The lifecycle of every background run, written once: queue → claim → work → finish.

Each kind of run (syncing.kinds) supplies only its work function; this module claims the
lock, records the start, the heartbeat and the counters, and ends the run as a success or
as a failure with a one-line reason, which also releases the lock. Every entry point (the
commands, the schedule, "Sync now", the admin actions, the webhook) goes through
`run_queue` and `run_execute`, inline or in the worker (NetBox's JobRunner has the shape).

The lock is the partial unique constraint on `SyncRun.lock_key` among queued and running
rows, so a second run of a kind for the same target is refused on SQLite and PostgreSQL
alike. A run whose heartbeat is older than SYNC_STALE_MINUTES belongs to a dead worker and
is failed before a new one is queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from syncing.clients.errors import ClientError, redact
from syncing.kinds import run_kind
from syncing.models import SyncRun
from syncing.signals import run_finished

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[SyncRun], None]


class SyncAlreadyRunning(Exception):
    """Another run of the same kind holds the lock for this target."""

    def __init__(self, run: SyncRun | None, lock_key: str):
        self.run = run
        self.lock_key = lock_key
        kind = run.get_kind_display() if run else lock_key.split(":")[0]
        where = (
            f" (run #{run.pk}, {run.status} since {run.started_at:%Y-%m-%d %H:%M})" if run else ""
        )
        super().__init__(f"A {kind} sync is already running or queued{where}.")


@dataclass
class RunContext:
    """What a work function gets: its run, its target, and the way to report progress."""

    run: SyncRun
    on_progress: ProgressCallback | None = None
    cursor: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self):
        return self.run.target

    @property
    def inputs(self) -> dict[str, Any]:
        return self.run.inputs

    def progress(self, **fields: Any) -> None:
        """Persist counters on the run and refresh its heartbeat (one UPDATE)."""
        fields["heartbeat_at"] = timezone.now()
        for name, value in fields.items():
            setattr(self.run, name, value)
        SyncRun.objects.filter(pk=self.run.pk).update(**fields)
        if self.on_progress is not None:
            self.on_progress(self.run)

    def previous_cursor(self) -> dict[str, Any]:
        """The cursor left by the last successful run of this kind on this target."""
        previous = (
            SyncRun.objects.filter(
                kind=self.run.kind,
                status=SyncRun.Status.SUCCESS,
                **{SyncRun.TARGET_FIELDS[type(self.target).__name__]: self.target},
            )
            .order_by("-finished_at")
            .values_list("cursor", flat=True)
            .first()
        )
        return previous or {}


STALE_ERROR = "Stale: the worker stopped reporting progress (killed or crashed)."


def sync_runs_fail_stale(*, now=None) -> int:
    """Fail queued/running rows whose worker stopped heart-beating; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.SYNC_STALE_MINUTES)
    return SyncRun.objects.filter(
        status__in=SyncRun.ACTIVE_STATUSES, heartbeat_at__lt=cutoff
    ).update(status=SyncRun.Status.FAILED, finished_at=now, error=STALE_ERROR)


def run_queue(*, kind: str, target, trigger: str = "", inputs: dict | None = None) -> SyncRun:
    """Create a queued run of `kind` on `target`: this row is the lock.

    Raises SyncAlreadyRunning when a run with the same lock key is queued or running.
    """
    inputs = inputs or {}
    key = run_kind(kind).lock_key(target, inputs)
    sync_runs_fail_stale()
    target_field = SyncRun.TARGET_FIELDS[type(target).__name__]
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                kind=kind,
                lock_key=key,
                trigger=trigger,
                inputs=inputs,
                status=SyncRun.Status.QUEUED,
                **{target_field: target},
            )
    except IntegrityError:
        active = SyncRun.objects.filter(lock_key=key, status__in=SyncRun.ACTIVE_STATUSES)
        raise SyncAlreadyRunning(active.first(), key) from None


def run_execute(run: SyncRun, *, on_progress: ProgressCallback | None = None) -> SyncRun:
    """Claim a queued run, do its work, and finish it; returns the finished run.

    Raises SyncAlreadyRunning when the run is no longer queued (another worker took it, or
    a task was delivered twice). Every failure of the work ends the run as failed.
    """
    _claim(run)
    context = RunContext(run=run, on_progress=on_progress)
    try:
        run_kind(run.kind).work_function()(context)
    except Exception as exc:
        _finish(run, error=run_failure_reason(exc))
    else:
        _finish(run, cursor=context.cursor)
    _announce_finished(run)
    return run


def _announce_finished(run: SyncRun) -> None:
    """Tell the other apps (signals.run_finished); a failing receiver is logged, never
    turns a finished run into a crash."""
    for receiver, result in run_finished.send_robust(sender=SyncRun, run=run):
        if isinstance(result, Exception):
            logger.error("After run #%s, %r failed: %s", run.pk, receiver, result)


def run_now(
    *,
    kind: str,
    target,
    trigger: str = "",
    inputs: dict | None = None,
    on_progress: ProgressCallback | None = None,
) -> SyncRun:
    """Queue and execute a run inline (commands, `sync_all`, tests)."""
    run = run_queue(kind=kind, target=target, trigger=trigger, inputs=inputs)
    return run_execute(run, on_progress=on_progress)


def runs_enqueue(runs: list[SyncRun]) -> None:
    """Hand queued runs to the worker, in order, once the transaction that queued them commits."""
    from django_q.tasks import async_task

    run_ids = [run.pk for run in runs]
    if run_ids:
        transaction.on_commit(lambda: async_task("syncing.tasks.sync_runs_task", run_ids))


def run_failure_reason(exc: BaseException) -> str:
    """One line for the admin: the client's own message, or the type and first line of a bug."""
    if isinstance(exc, ClientError):
        logger.warning("Run failed: %s", redact(str(exc)))
        return redact(str(exc).strip()) or type(exc).__name__
    logger.exception("Run crashed")
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return redact(f"Unexpected error ({type(exc).__name__}): {first_line}")


def _claim(run: SyncRun) -> None:
    """queued → running in one conditional UPDATE, so two workers never both run it."""
    now = timezone.now()
    claimed = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        run.refresh_from_db()
        raise SyncAlreadyRunning(run, run.lock_key)
    run.status, run.started_at, run.heartbeat_at = SyncRun.Status.RUNNING, now, now


def _finish(run: SyncRun, *, error: str = "", cursor: dict | None = None) -> SyncRun:
    """Close the run as success (no error) or failed (with the reason); frees the lock."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "status": SyncRun.Status.FAILED if error else SyncRun.Status.SUCCESS,
        "error": error,
        "finished_at": now,
        "heartbeat_at": now,
        "progress_label": "Failed" if error else "Done",
    }
    if cursor:
        fields["cursor"] = cursor
    for name, value in fields.items():
        setattr(run, name, value)
    SyncRun.objects.filter(pk=run.pk).update(**fields, details=run.details)
    return run
