"""Approving and protecting groups; every change is written to the audit log.

Groups travel as refs "level:server_id:plex_id" (the candidates page's checkbox values).
Approval re-reads fresh aggregates and re-checks the rule, protections and history, so a
stale page can never approve something that stopped being a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from deletion.history import history_state_get
from deletion.models import AuditLog, DeletionRequest, DeletionRule, Exclusion, Level
from deletion.selectors import (
    Candidate,
    group_is_protected,
    group_open_request,
    group_stats_get,
    rule_mismatches,
)
from media.models import MediaItem

Ref = tuple[str, int, int]


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)  # titles
    refused: list[str] = field(default_factory=list)  # "title: why"

    @property
    def message(self) -> str:
        text = f"{len(self.done)} done"
        if self.refused:
            text += f"; {len(self.refused)} refused ({'; '.join(self.refused[:5])})"
        return text


def ref_parse(value: str) -> Ref | None:
    """ "show:1:42" → ("show", 1, 42); anything malformed → None."""
    parts = value.split(":")
    if len(parts) != 3 or parts[0] not in Level.values:
        return None
    try:
        return parts[0], int(parts[1]), int(parts[2])
    except ValueError:
        return None


def refs_parse(values: list[str]) -> list[Ref]:
    return list(dict.fromkeys(r for r in map(ref_parse, values) if r is not None))


def refs_from_items(items: QuerySet[MediaItem]) -> list[Ref]:
    """The admin's MediaItem rows as groups at their own level."""
    return [(t, s, p) for t, s, p in items.values_list("type", "server_id", "plex_id")]


def audit_write(*, action: str, user=None, c: Candidate | None = None, **fields) -> AuditLog:
    if c is not None:
        fields = {
            "server_id": c.server_id,
            "level": c.level,
            "plex_id": c.plex_id,
            "title": _label(c),
            "size_bytes": c.size,
            **fields,
        }
    username = user.get_username() if user is not None else "system"
    return AuditLog.objects.create(action=action, user=user, username=username, **fields)


def _label(c: Candidate) -> str:
    if c.level == Level.SEASON:
        return f"{c.title} – {c.subtitle or f'Season {c.season_number}'}"
    if c.level == Level.EPISODE:
        return f"{c.subtitle} S{c.season_number or 0:02d}E{c.episode_number or 0:02d} {c.title}"
    return c.title


def _keys(c: Candidate) -> dict:
    if c.level == Level.SHOW:
        return {"show_plex_id": c.plex_id}
    if c.level == Level.SEASON:
        return {"show_plex_id": c.show_key, "season_plex_id": c.plex_id}
    if c.level == Level.EPISODE:
        return {"show_plex_id": c.show_key, "season_plex_id": c.season_key}
    return {}


def _approval_problem(c: Candidate, rule: DeletionRule | None, eligible) -> str:
    if c.server_id not in eligible:
        return "watch history unknown (Tautulli not synced)"
    if group_is_protected(c=c):
        return "protected"
    if (other := group_open_request(c=c)) is not None:
        same = other.plex_id == c.plex_id
        return "already approved" if same else f"overlaps the approved {other.level} {other.title}"
    if rule is not None and (why := rule_mismatches(c=c, rule=rule)):
        return ", ".join(why)
    return ""


def candidates_approve(*, refs: list[Ref], user, rule: DeletionRule | None) -> BulkResult:
    """Approve groups for deletion (rule=None: a manual approval from the admin)."""
    history = history_state_get()
    stats = group_stats_get(refs=refs, history=history)
    result, now = BulkResult(), timezone.now()
    for ref in refs:
        c = stats.get(ref)
        if c is None:
            result.refused.append(f"{ref[0]} {ref[2]}: nothing left in Plex")
            continue
        if why := _approval_problem(c, rule, history.eligible_server_ids):
            result.refused.append(f"{_label(c)}: {why}")
            continue
        try:
            with transaction.atomic():
                request = DeletionRequest.objects.create(
                    server_id=c.server_id,
                    level=c.level,
                    plex_id=c.plex_id,
                    title=_label(c),
                    item_count=c.items,
                    size_bytes=c.size,
                    rule=rule,
                    approved_by=user,
                    approved_at=now,
                    **_keys(c),
                )
                audit_write(action=AuditLog.Action.APPROVE, user=user, c=c, request=request)
        except IntegrityError:
            result.refused.append(f"{_label(c)}: already approved")
            continue
        result.done.append(_label(c))
    return result


def groups_protect(
    *, refs: list[Ref], user, reason: str = "", until: date | None = None
) -> BulkResult:
    """Protect groups (forever, or until a date); protecting again updates the reason."""
    stats = group_stats_get(refs=refs)
    result = BulkResult()
    for ref in refs:
        c = stats.get(ref)
        if c is None:
            result.refused.append(f"{ref[0]} {ref[2]}: nothing left in Plex")
            continue
        with transaction.atomic():
            Exclusion.objects.update_or_create(
                server_id=c.server_id,
                plex_id=c.plex_id,
                defaults={
                    "level": c.level,
                    "title": _label(c),
                    "until": until,
                    "reason": reason,
                    "created_by": user,
                    **_keys(c),
                },
            )
            audit_write(action=AuditLog.Action.PROTECT, user=user, c=c, message=reason)
        result.done.append(_label(c))
    return result


def exclusion_remove(*, exclusion: Exclusion, user) -> None:
    with transaction.atomic():
        audit_write(
            action=AuditLog.Action.UNPROTECT,
            user=user,
            server_id=exclusion.server_id,
            level=exclusion.level,
            plex_id=exclusion.plex_id,
            title=exclusion.title,
        )
        exclusion.delete()


def request_retry(*, request: DeletionRequest, user) -> bool:
    """Put a failed request back in the queue (only if nothing else is open for its group)."""
    try:
        with transaction.atomic():
            updated = DeletionRequest.objects.filter(
                pk=request.pk, status=DeletionRequest.Status.FAILED
            ).update(status=DeletionRequest.Status.APPROVED, approved_by=user)
    except IntegrityError:
        return False
    if updated:
        audit_write(
            action=AuditLog.Action.APPROVE,
            user=user,
            request=request,
            server_id=request.server_id,
            level=request.level,
            plex_id=request.plex_id,
            title=request.title,
            size_bytes=request.size_bytes,
            message="Retry after failure",
        )
    return bool(updated)
