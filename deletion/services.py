"""Approving and protecting groups; every change is written to the audit log.

Groups travel as refs (deletion.groups.Ref; the candidates page's checkbox values).
Approval re-reads fresh aggregates and re-checks the rule, protections and history, so a
stale page can never approve something that stopped being a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from deletion.announce import leaving_announce, leaving_changed
from deletion.blockers import GroupBlockers
from deletion.config import deletion_settings_get
from deletion.groups import GROUP_KEY, Ref
from deletion.history import history_state_get
from deletion.models import AuditLog, DeletionRequest, DeletionRule, Exclusion, Level
from deletion.people import held_back_refs, people_get
from deletion.selectors import (
    Candidate,
    group_stats_get,
    rule_mismatches,
)
from media.models import MediaItem


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


def refs_from_items(items: QuerySet[MediaItem]) -> list[Ref]:
    """The admin's MediaItem rows as groups at their own level."""
    return [Ref(*row) for row in items.values_list("type", "server_id", "plex_id")]


def audit_write(
    *,
    action: str,
    user=None,
    c: Candidate | None = None,
    request: DeletionRequest | None = None,
    exclusion: Exclusion | None = None,
    **fields,
) -> AuditLog:
    """Write one audit row. The group's columns come from the candidate, else the request,
    else the exclusion; `fields` add or override (the run, a message, a re-read size)."""
    username = user.get_username() if user is not None else "system"
    group = _audit_group(c, request or exclusion)
    return AuditLog.objects.create(
        action=action, user=user, username=username, request=request, **{**group, **fields}
    )


def _audit_group(c: Candidate | None, row: DeletionRequest | Exclusion | None) -> dict:
    """The group's columns of an audit row (an exclusion has no size)."""
    group = c or row
    if group is None:
        return {}
    return {
        "server_id": group.server_id,
        "level": group.level,
        "plex_id": group.plex_id,
        "title": _label(c) if c else row.title,
        "size_bytes": c.size if c else getattr(row, "size_bytes", None),
    }


def audit_row(*, action: str, user=None, c: Candidate | None = None, **fields) -> AuditLog:
    """An unsaved audit entry for a candidate (bulk writers create many at once)."""
    username = user.get_username() if user is not None else "system"
    return AuditLog(
        action=action, user=user, username=username, **{**_audit_group(c, None), **fields}
    )


def _label(c: Candidate) -> str:
    if c.level == Level.SEASON:
        return f"{c.title} – {c.subtitle or f'Season {c.season_number}'}"
    if c.level == Level.EPISODE:
        return f"{c.subtitle} {c.episode_label} {c.title}"
    return c.title


def _keys(c: Candidate) -> dict:
    if c.level == Level.SHOW:
        return {"show_plex_id": c.plex_id}
    if c.level == Level.SEASON:
        return {"show_plex_id": c.show_plex_id, "season_plex_id": c.plex_id}
    if c.level == Level.EPISODE:
        return {"show_plex_id": c.show_plex_id, "season_plex_id": c.season_plex_id}
    return {}


def _approval_problem(c: Candidate, eligible, blockers: GroupBlockers) -> str:
    if c.server_id not in eligible:
        return "watch history unknown (Tautulli not synced)"
    if blockers.protected(c):
        return "protected"
    if (other := blockers.open_request(c)) is not None:
        if other["plex_id"] == c.plex_id:
            return "already approved"
        return f"overlaps the approved {other['level']} {other['title']}"
    return ""


class _RuleCheck:
    """One rule's verdict on a batch of groups: its own statistics (ignored users left
    out), its requester condition and its libraries, each read once for the batch."""

    def __init__(self, rule: DeletionRule, refs: list[Ref], history, shared: dict) -> None:
        self.rule, now = rule, timezone.now()
        ignoring = rule.ignore_users.exists()
        self.stats = group_stats_get(refs=refs, history=history, rule=rule) if ignoring else shared
        self.held = held_back_refs(refs, rule, now)
        self.outside = _outside_sections(refs, rule)

    def problem(self, ref: Ref) -> str:
        level = ref[0]
        if (level == Level.MOVIE and not self.rule.include_movies) or (
            level != Level.MOVIE and not self.rule.include_tv
        ):
            return "not a type this rule selects"
        if ref in self.outside:
            return "not in this rule's libraries"
        c = self.stats.get(ref)
        why = rule_mismatches(c=c, rule=self.rule, held_back=ref in self.held) if c else []
        return ", ".join(why)


def _outside_sections(refs: list[Ref], rule: DeletionRule) -> set[Ref]:
    sections = list(rule.sections.values_list("pk", flat=True))
    if not sections:
        return set()
    inside = set()
    for level in {r[0] for r in refs}:
        column = GROUP_KEY[level]
        keys = [r[2] for r in refs if r[0] == level]
        rows = MediaItem.objects.filter(section_id__in=sections, **{f"{column}__in": keys})
        inside |= {(level, s, k) for s, k in rows.values_list("server_id", column)}
    return set(refs) - inside


def _first_match(ref: Ref, checks: list[_RuleCheck]) -> tuple[DeletionRule | None, str]:
    """The first rule the group still matches, else the first rule's reasons."""
    reasons = []
    for check in checks:
        why = check.problem(ref)
        if not why:
            return check.rule, ""
        reasons.append(f"rule “{check.rule.name}”: {why}" if len(checks) > 1 else why)
    return None, "; ".join(reasons)


def candidates_approve(
    *,
    refs: list[Ref],
    user,
    rule: DeletionRule | None = None,
    rules: list[DeletionRule] | None = None,
) -> BulkResult:
    """Approve groups for deletion: each must still match one of `rules` (or `rule`); the
    request records which, who requested it and who watched it. No rule at all: a manual
    approval from the admin. Each leaves `leaving_soon_days` later, announced once (one
    message for the batch) and shown in Plex's "Leaving soon" collection."""
    rules = list(rules) if rules is not None else ([rule] if rule is not None else [])
    history = history_state_get()
    stats = group_stats_get(refs=refs, history=history)
    checks = [_RuleCheck(r, refs, history, stats) for r in rules]
    people = people_get(list(stats.values()))
    blockers = GroupBlockers(list(stats.values()))
    result, now, created = BulkResult(), timezone.now(), []
    leave_at = now + timedelta(days=deletion_settings_get().leaving_soon_days)
    for ref in refs:
        c = stats.get(ref)
        if c is None:
            result.refused.append(f"{ref[0]} {ref[2]}: nothing left in Plex")
            continue
        matched, why = _first_match(ref, checks) if checks else (None, "")
        why = _approval_problem(c, history.eligible_server_ids, blockers) or why
        if why:
            result.refused.append(f"{_label(c)}: {why}")
            continue
        if request := _approve_one(c, matched, user, (now, leave_at), people[c.ref]):
            result.done.append(_label(c))
            created.append(request)
            blockers.add_request(request)
        else:
            result.refused.append(f"{_label(c)}: already approved")
    if created:
        leaving_announce(requests=created)
        leaving_changed()
    return result


def _approve_one(c: Candidate, rule, user, when: tuple, people: tuple) -> DeletionRequest | None:
    """One DeletionRequest and its audit entry; None when the group is already open."""
    (now, leave_at), (requested, watched) = when, people
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
                rule_name=rule.name if rule else "",
                requested_by=", ".join(requested)[:300],
                watched_by=", ".join(watched)[:600],
                approved_by=user,
                approved_at=now,
                leave_at=leave_at,
                **_keys(c),
            )
            message = f"Rule “{rule.name}”" if rule else "Manual approval"
            if requested:
                message += f"; requested by {', '.join(requested)}"
            if watched:
                message += f"; watched by {', '.join(watched)}"
            audit_write(
                action=AuditLog.Action.APPROVE, user=user, c=c, request=request, message=message
            )
    except IntegrityError:
        return None
    return request


def groups_protect(
    *, refs: list[Ref], user, reason: str = "", until: date | None = None
) -> BulkResult:
    """Protect groups (forever, or until a date); protecting again updates the reason.

    One bulk upsert and one bulk audit insert, so "Protect" across thousands of rows of
    the admin list stays a handful of queries. Approved groups it covers leave the queue."""
    from deletion.lifecycle import requests_take_out_changed  # it writes through audit_write

    stats = group_stats_get(refs=refs)
    result, found = BulkResult(), []
    for ref in refs:
        c = stats.get(ref)
        if c is None:
            result.refused.append(f"{ref[0]} {ref[2]}: nothing left in Plex")
            continue
        found.append(c)
        result.done.append(_label(c))
    rows = [
        Exclusion(server_id=c.server_id, plex_id=c.plex_id, level=c.level, title=_label(c),
                  until=until, reason=reason, created_by=user, **_keys(c))
        for c in found
    ]  # fmt: skip
    audits = [
        audit_row(action=AuditLog.Action.PROTECT, user=user, c=c, message=reason) for c in found
    ]
    with transaction.atomic():
        Exclusion.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["server", "plex_id"],
            update_fields=[*PROTECT_FIELDS, "updated_at"],
        )
        AuditLog.objects.bulk_create(audits, batch_size=500)
    if result.done:
        requests_take_out_changed(user=user)
    return result


PROTECT_FIELDS = [
    "level",
    "title",
    "until",
    "reason",
    "created_by",
    "show_plex_id",
    "season_plex_id",
]


def exclusion_remove(*, exclusion: Exclusion, user) -> None:
    with transaction.atomic():
        audit_write(action=AuditLog.Action.UNPROTECT, user=user, exclusion=exclusion)
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
            message="Retry after failure",
        )
    return bool(updated)
