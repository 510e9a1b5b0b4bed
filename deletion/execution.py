"""Carrying out approved deletions through Plex, safely and exactly once.

Each request is claimed with a conditional UPDATE (approved → running, row count checked),
so two workers, a double click or a rerun can never delete a group twice. Just before the
DELETE the group is re-checked against the stored statistics (watched or added since
approval, protected since, no longer matching its rule, history unknown), then against
Tautulli's fresh history and what Plex is playing right now (deletion.safety); anything
doubtful is skipped and logged. Dry run records "would delete" and sends nothing to Plex.
Runs left behind by a dead worker are recovered first (deletion.recovery); an exception
in one group is that group's failure, never the whole run's. Only due groups (past their
leave date, see deletion.lifecycle) are executed unless the caller asks for
`due_only=False`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone

from deletion.announce import execution_announce
from deletion.config import DeletionSettings, deletion_settings_get
from deletion.groups import Ref, changed_since_approval
from deletion.history import HistoryState, history_state_get
from deletion.models import AuditLog, DeletionRequest, DeletionRun
from deletion.recovery import (
    deletion_run_abandon,
    deletion_runs_fail_stale,
    request_items_mark_gone,
    stranded_requests_resolve,
)
from deletion.removal import group_remove, removal_route
from deletion.safety import FreshHistory, playing_problem
from deletion.selectors import Candidate, group_is_protected, group_stats_get, rule_mismatches
from deletion.services import audit_write
from deletion.storage import USED_CACHE_KEY
from media.formatting import GB, human_size
from media.models import PlexServer
from syncing.clients.errors import redact
from syncing.clients.plex import PlexClient, PlexError
from syncing.services.plex_sync import plex_client_for

logger = logging.getLogger(__name__)

Status = DeletionRequest.Status


@dataclass(frozen=True)
class CapCheck:
    groups: int
    size_bytes: int
    exceeded: str  # which caps the run is above ("" when within them)
    dry_run: bool = False

    @property
    def needs_confirmation(self) -> bool:
        """Above a cap on a real run: the one rule the queue page and the execution share
        (a dry run deletes nothing, so it never needs the confirmation)."""
        return bool(self.exceeded) and not self.dry_run


@dataclass(frozen=True)
class ExecutionResult:
    run: DeletionRun | None
    cap: CapCheck

    @property
    def needs_confirmation(self) -> bool:
        return self.run is None and self.cap.needs_confirmation

    @property
    def summary(self) -> str:
        if self.run is None:
            return f"Nothing executed: {self.cap.exceeded or 'no approved deletions'}."
        r = self.run
        verb = (
            f"{r.would_delete} would be deleted (dry run)" if r.dry_run else f"{r.deleted} deleted"
        )
        return f"{verb}, {r.skipped} skipped, {r.failed} failed."


def _pending(
    requests: QuerySet[DeletionRequest] | None, due_only: bool = True
) -> QuerySet[DeletionRequest]:
    qs = requests if requests is not None else DeletionRequest.objects.all()
    if due_only:
        qs = qs.filter(leave_at__lte=timezone.now())
    return qs.filter(status=Status.APPROVED).order_by("approved_at", "pk")


def execution_preflight(
    *,
    requests: QuerySet[DeletionRequest] | None = None,
    config: DeletionSettings | None = None,
    due_only: bool = True,
) -> CapCheck:
    """How much the next run would delete, and whether that is above the per-run caps."""
    config = config or deletion_settings_get()
    agg = _pending(requests, due_only).aggregate(n=Count("pk"), size=Sum("size_bytes"))
    groups, size = agg["n"] or 0, agg["size"] or 0
    why = []
    if groups > config.max_groups:
        why.append(f"{groups} groups is above the cap of {config.max_groups}")
    if size > config.max_gb * GB:
        why.append(f"{human_size(size)} is above the cap of {config.max_gb:g} GB")
    return CapCheck(groups, size, "; ".join(why), dry_run=config.dry_run)


class _Context:
    """What one run shares: settings, history state, and one Plex client per server."""

    def __init__(self, run: DeletionRun, user, config: DeletionSettings):
        self.run, self.user, self.config = run, user, config
        self.history: HistoryState = history_state_get()
        self.fresh = FreshHistory()
        self._clients: dict[int, PlexClient] = {}

    def client(self, server: PlexServer) -> PlexClient:
        if server.pk not in self._clients:
            self._clients[server.pk] = plex_client_for(server)
        return self._clients[server.pk]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self.fresh.close()


def deletion_execute(
    *,
    requests: QuerySet[DeletionRequest] | None = None,
    user=None,
    confirm_over_cap: bool = False,
    due_only: bool = True,
) -> ExecutionResult:
    """Execute approved due requests (all of them by default); see the module docstring."""
    config = deletion_settings_get()
    _recover(user)
    cap = execution_preflight(requests=requests, config=config, due_only=due_only)
    if cap.groups == 0 or (cap.needs_confirmation and not confirm_over_cap):
        return ExecutionResult(None, cap)
    pending = list(_pending(requests, due_only).select_related("server", "rule"))
    run = DeletionRun.objects.create(dry_run=config.dry_run, started_by=user, total=len(pending))
    ctx = _Context(run, user, config)
    try:
        for request in pending:
            _execute_one(request, ctx)
    except Exception as exc:  # the database itself failed: what was claimed needs a check
        deletion_run_abandon(run_id=run.pk, error=redact(f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        ctx.close()
        cache.delete(USED_CACHE_KEY)  # items went away: the storage card recounts
    _run_finish(run, status=DeletionRun.Status.DONE)
    execution_announce(run=run)  # one message for the run; the collection loses what went
    return ExecutionResult(run, cap)


def _recover(user) -> None:
    """Fail runs whose worker died, then learn from Plex what their requests became."""
    deletion_runs_fail_stale()
    clients: dict[int, PlexClient] = {}

    def client_for(server: PlexServer) -> PlexClient:
        if server.pk not in clients:
            clients[server.pk] = plex_client_for(server)
        return clients[server.pk]

    try:
        stranded_requests_resolve(user=user, client_for=client_for)
    finally:
        for client in clients.values():
            client.close()


def _run_finish(run: DeletionRun, *, status: str, error: str = "") -> None:
    run.refresh_from_db()
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])


def _claim(request: DeletionRequest, run: DeletionRun) -> bool:
    """approved → running, only if nobody else did it first (the row count says)."""
    return bool(
        DeletionRequest.objects.filter(pk=request.pk, status=Status.APPROVED).update(
            status=Status.RUNNING, run=run
        )
    )


def _execute_one(request: DeletionRequest, ctx: _Context) -> None:
    """Claim one group and carry it out; any exception is this group's failure."""
    if not _claim(request, ctx.run):
        return
    try:
        _carry_out(request, ctx)
    except Exception as exc:
        logger.exception("Deletion request %s failed", request.pk)
        first_line = redact((str(exc).splitlines() or [""])[0])
        why = f"Unexpected error ({type(exc).__name__}): {first_line}"
        _finish(request, ctx, Status.FAILED, AuditLog.Action.FAIL, why, counter="failed")


def _carry_out(request: DeletionRequest, ctx: _Context) -> None:
    ref = Ref.of(request)
    fresh = group_stats_get(refs=[ref], history=ctx.history, rule=request.rule).get(ref)
    if why := _recheck(request, fresh, ctx):
        _finish(request, ctx, Status.SKIPPED, AuditLog.Action.SKIP, why, counter="skipped")
        return
    if ctx.config.dry_run:
        route = removal_route(request=request, when_not_in_arr=ctx.config.when_not_in_arr)
        _finish(
            request, ctx, Status.APPROVED, AuditLog.Action.WOULD_DELETE,
            f"Dry run: nothing was sent; it would go through {route.describe()}.",
            counter="would_delete",
        )  # fmt: skip
        return
    client = ctx.client(request.server)
    try:
        if why := ctx.fresh.problem(request) or playing_problem(request, client):
            _finish(request, ctx, Status.SKIPPED, AuditLog.Action.SKIP, why, counter="skipped")
            return
        removal = group_remove(
            request=request, plex=client, run=ctx.run, when_not_in_arr=ctx.config.when_not_in_arr
        )  # through Radarr/Sonarr when one holds the group, else Plex (deletion.removal)
    except PlexError as exc:
        _finish(request, ctx, Status.FAILED, AuditLog.Action.FAIL, str(exc), counter="failed")
        return
    if removal.status != Status.DELETED:
        action = AuditLog.Action.SKIP if removal.status == Status.SKIPPED else AuditLog.Action.FAIL
        _finish(request, ctx, removal.status, action, removal.message, counter=removal.status)
        return
    with transaction.atomic():
        request_items_mark_gone(request, timezone.now())
        _finish(
            request, ctx, Status.DELETED, AuditLog.Action.EXECUTE, removal.message,
            counter="deleted", size=fresh.size if fresh else request.size_bytes,
        )  # fmt: skip


def _recheck(request: DeletionRequest, c: Candidate | None, ctx: _Context) -> str:
    """Why this group must not be deleted now ("" when it still may)."""
    if request.server_id not in ctx.history.eligible_server_ids:
        return "Watch history is unknown (Tautulli never synced or its last sync failed)."
    if why := changed_since_approval(request, c):
        return why
    if group_is_protected(c=c):
        return "Protected since approval."
    if request.rule is not None and (why := rule_mismatches(c=c, rule=request.rule)):
        return f"No longer matches rule “{request.rule.name}”: {', '.join(why)}."
    return ""


def _finish(
    request: DeletionRequest,
    ctx: _Context,
    status: str,
    action: str,
    message: str,
    *,
    counter: str,
    size: int | None = None,
) -> None:
    now = timezone.now()
    DeletionRequest.objects.filter(pk=request.pk).update(
        status=status,
        executed_at=None if status == Status.APPROVED else now,
        dry_run=ctx.config.dry_run,
        error=message if status in (Status.FAILED, Status.SKIPPED) else "",
    )
    audit_write(
        action=action,
        user=ctx.user,
        request=request,
        run=ctx.run,
        size_bytes=request.size_bytes if size is None else size,
        message=message,
    )
    updates = {"processed": F("processed") + 1, counter: F(counter) + 1, "heartbeat_at": now}
    if status == Status.DELETED:
        updates["bytes_freed"] = F("bytes_freed") + (size or 0)
    DeletionRun.objects.filter(pk=ctx.run.pk).update(**updates)
