"""The life of an approved group: leaving soon until its leave date, then due.

Approval stamps `leave_at = approved_at + leaving_soon_days`. Only due groups are
executed by the queue button, `execute_deletions` and the daily schedule (earlier only
with an explicit confirmation). A new play, a newly added item, a protection or a cancel
takes a group out of the queue (status "cancelled", the reason in the audit log), and with
it out of the "Leaving soon" collection.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from deletion.announce import leaving_changed
from deletion.config import DeletionSettings, deletion_settings_get
from deletion.groups import Candidate
from deletion.history import history_state_get
from deletion.models import AuditLog, DeletionRequest, Level
from deletion.queries import active_exclusions
from deletion.selectors import group_stats_get
from deletion.services import audit_write
from media.formatting import GB

Status = DeletionRequest.Status


def leave_at_for(*, approved_at: datetime, config: DeletionSettings | None = None) -> datetime:
    config = config or deletion_settings_get()
    return approved_at + timedelta(days=config.leaving_soon_days)


def requests_waiting() -> QuerySet[DeletionRequest]:
    """Approved and not yet executed: leaving soon or due."""
    return DeletionRequest.objects.filter(status=Status.APPROVED)


def requests_due(*, now: datetime | None = None) -> QuerySet[DeletionRequest]:
    return requests_waiting().filter(leave_at__lte=now or timezone.now())


def requests_leaving_soon(*, now: datetime | None = None) -> QuerySet[DeletionRequest]:
    return requests_waiting().filter(leave_at__gt=now or timezone.now())


def requests_due_within_caps(
    *, config: DeletionSettings | None = None, now: datetime | None = None
) -> QuerySet[DeletionRequest]:
    """The due groups, oldest leave date first, as many as the per-run caps allow (for the
    command and the schedule, which have nobody to ask for a confirmation)."""
    config = config or deletion_settings_get()
    rows = requests_due(now=now).order_by("leave_at", "approved_at", "pk")
    chosen, total = [], 0
    for pk, size in rows.values_list("pk", "size_bytes").iterator():
        if len(chosen) >= config.max_groups or total + size > config.max_gb * GB:
            break
        chosen.append(pk)
        total += size
    return DeletionRequest.objects.filter(pk__in=chosen)


def request_cancel(*, request: DeletionRequest, user, reason: str = "") -> bool:
    """Take one approved group out of the queue by hand."""
    who = user.get_username() if user is not None else "system"
    why = f"Cancelled by {who}" + (f": {reason}" if reason else ".")
    return bool(_take_out([(request, why)], user=user))


def requests_take_out_changed(*, user=None) -> list[DeletionRequest]:
    """Take out every waiting group that was watched, added to or protected since its
    approval (after each sync and protection). Bulk: a few queries whatever the count."""
    waiting = list(requests_waiting())
    if not waiting:
        return []
    refs = [(r.level, r.server_id, r.plex_id) for r in waiting]
    stats = group_stats_get(refs=refs, history=history_state_get())
    protected = _protected_keys({r.server_id for r in waiting})
    out = []
    for request in waiting:
        c = stats.get((request.level, request.server_id, request.plex_id))
        if why := _why_out(request, c, protected):
            out.append((request, why))
    return _take_out(out, user=user)


def _why_out(request: DeletionRequest, c: Candidate | None, protected: set) -> str:
    if c is None:
        return "Nothing of it is left in Plex."
    if c.last_watched and c.last_watched > request.approved_at:
        return f"Watched since approval ({c.last_watched:%Y-%m-%d %H:%M})."
    if c.added and c.added > request.approved_at:
        return f"New content added since approval ({c.added:%Y-%m-%d %H:%M})."
    if _is_protected(request, protected):
        return "Protected since approval."
    return ""


def _protected_keys(server_ids: set[int]) -> set[tuple[str, int, int]]:
    """("item"|"show"|"season", server, key) for every active protection."""
    keys = set()
    rows = active_exclusions().filter(server_id__in=server_ids)
    for sid, pid, show, season in rows.values_list(
        "server_id", "plex_id", "show_plex_id", "season_plex_id"
    ):
        keys.update({("item", sid, pid), ("show", sid, show), ("season", sid, season)})
    return keys


def _is_protected(r: DeletionRequest, keys: set) -> bool:
    """The group itself, anything inside it, or anything above it is protected."""
    sid = r.server_id
    above = [k for k in (r.show_plex_id, r.season_plex_id) if k and k != r.plex_id]
    if ("item", sid, r.plex_id) in keys or any(("item", sid, k) in keys for k in above):
        return True
    if r.level == Level.SHOW:
        return ("show", sid, r.plex_id) in keys
    return r.level == Level.SEASON and ("season", sid, r.plex_id) in keys


def _take_out(pairs: list[tuple[DeletionRequest, str]], *, user) -> list[DeletionRequest]:
    done = []
    for request, why in pairs:
        with transaction.atomic():
            if (
                not requests_waiting()
                .filter(pk=request.pk)
                .update(status=Status.CANCELLED, error=why)
            ):
                continue  # executed or taken out meanwhile
            audit_write(
                action=AuditLog.Action.CANCEL,
                user=user,
                request=request,
                server_id=request.server_id,
                level=request.level,
                plex_id=request.plex_id,
                title=request.title,
                size_bytes=request.size_bytes,
                message=why,
            )
        done.append(request)
    if done:
        leaving_changed()
    return done
