"""Read side of the deletion workflow: candidate pages, fresh group statistics, rule checks.

The SQL lives in deletion.queries, the types in deletion.groups (re-exported here: they
are part of this API). Every function only reads.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from django.db.models import (
    Q,
)
from django.utils import timezone

from deletion.groups import (
    GROUP_KEY,
    SORTS,
    TV_LEVELS,
    Candidate,
    CandidateFilter,
    CandidatePage,
    Ref,
)
from deletion.history import HistoryState, history_state_get
from deletion.models import DeletionRule, Level
from deletion.people import held_back_refs, people_get
from deletion.queries import (
    active_exclusions,
    candidate_groups,
    candidate_page_sql,
    group_items,
    group_rows,
    page_parts,
    page_rows,
    ref_batches,
    with_labels,
)
from media.formatting import GB

__all__ = [
    "GROUP_KEY",
    "SORTS",
    "TV_LEVELS",
    "Candidate",
    "CandidateFilter",
    "CandidatePage",
    "candidate_groups",
    "candidate_page_get",
    "candidate_page_sql",
    "default_rule_get",
    "group_is_protected",
    "group_stats_get",
    "rule_mismatches",
    "rules_enabled_get",
    "with_people",
]


def candidate_page_get(
    *, f: CandidateFilter, page: int = 1, per_page: int = 50, history: HistoryState | None = None
) -> CandidatePage:
    """A page of candidates and the totals of the whole filter, in one aggregate query."""
    history = history or history_state_get()
    parts = page_parts(f=f, history=history)
    if not parts:
        return CandidatePage([], 0, 0, 1, per_page, history)
    page, dedupe = max(1, page), len(f.active_rules) > 1  # only querysets: see page_parts
    rows = page_rows(parts, f.sort, per_page, (page - 1) * per_page, dedupe)
    if not rows and page > 1:  # past the end (the filter shrank): show the first page
        page, rows = 1, page_rows(parts, f.sort, per_page, 0, dedupe)
    count = int(rows[0]["total_count"]) if rows else 0
    total_bytes = int(rows[0]["total_bytes"] or 0) if rows else 0
    candidates = with_people(with_labels(rows), f.active_rules)
    return CandidatePage(candidates, count, total_bytes, page, per_page, history)


def with_people(candidates: list[Candidate], rules: list[DeletionRule]) -> list[Candidate]:
    """The page's rows with the name of their rule, their requesters and who watched them."""
    if not candidates:
        return candidates
    names = {r.pk: r.name for r in rules}
    people = people_get(candidates)
    return [
        replace(c, rule_name=names.get(c.rule_id, ""), requested_by=people[c.ref][0],
                watched_by=people[c.ref][1])
        for c in candidates
    ]  # fmt: skip


def rules_enabled_get() -> list[DeletionRule]:
    """Every enabled rule, in the order the page tries them (the first that matches names
    the group)."""
    return list(DeletionRule.objects.filter(enabled=True).order_by("pk"))


def group_stats_get(
    *,
    refs: list[tuple[str, int, int]],
    history: HistoryState | None = None,
    rule: DeletionRule | None = None,
) -> dict[tuple[str, int, int], Candidate]:
    """Fresh aggregates of the given groups (level, server id, key), ignoring rules and
    protections (but leaving out the plays of `rule`'s ignored users); gone items are
    never counted. Two queries per level and server (and per batch of keys: see
    deletion.queries.ref_batches)."""
    history = history or history_state_get()
    everything = HistoryState(
        frozenset({sid for _, sid, _ in refs}), {}, dict(history.history_start)
    )
    rows = []
    for level, keys in ref_batches(refs):
        items = group_items(level, CandidateFilter(), everything).filter(keys)
        rows += list(group_rows(items, level, everything, rule))
    return {Ref.of(c): c for c in with_labels(rows)}


def rule_mismatches(
    *, c: Candidate, rule: DeletionRule, now: datetime | None = None, held_back: bool | None = None
) -> list[str]:
    """Why a group no longer matches its rule (empty when it still does). `c` must carry
    the rule's statistics (group_stats_get(rule=…)); `held_back` (the requester condition,
    see deletion.people) is looked up when not given."""
    now = now or timezone.now()
    reasons = []
    if held_back is None:
        ref = (c.level, c.server_id, c.plex_id)
        held_back = ref in held_back_refs([ref], rule, now)
    if held_back:
        reasons.append("its requester has not watched it yet (or their history is unknown)")
    if c.added is None or c.added >= now - timedelta(days=rule.grace_days):
        reasons.append(f"content added within {rule.grace_days} days")
    watched = c.assumed_watched
    if watched is not None and watched >= now - timedelta(days=rule.inactivity_days):
        reasons.append(f"watched within {rule.inactivity_days} days")
    if c.plays >= rule.max_plays:
        reasons.append(f"{c.plays} plays (limit below {rule.max_plays})")
    if rule.min_size_gb and c.size < int(rule.min_size_gb * GB):
        reasons.append(f"smaller than {rule.min_size_gb} GB")
    return reasons


def _inside_or_above(c: Candidate) -> Q:
    """Rows (exclusions, requests) that address this group, one inside it, or one above it."""
    level, plex_id, show_plex_id, season_plex_id = (
        c.level,
        c.plex_id,
        c.show_plex_id,
        c.season_plex_id,
    )
    q = Q(plex_id=plex_id)
    if level == Level.SHOW:
        q |= Q(show_plex_id=plex_id)
    elif level == Level.SEASON:
        q |= Q(season_plex_id=plex_id) | Q(plex_id=show_plex_id)
    elif level == Level.EPISODE:
        q |= Q(plex_id__in=[k for k in (show_plex_id, season_plex_id) if k])
    return q & Q(server_id=c.server_id)


def group_is_protected(*, c: Candidate) -> bool:
    """Is this group, or anything inside or above it, protected right now?"""
    return active_exclusions().filter(_inside_or_above(c)).exists()


def default_rule_get() -> DeletionRule | None:
    return DeletionRule.objects.filter(enabled=True).order_by("pk").first()
