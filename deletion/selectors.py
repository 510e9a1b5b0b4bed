"""Deletion candidates: groups aggregated by the database, one query per page.

Statistics live on episodes and movies only. A group's numbers are aggregates over its live
items: newest add (new content protects the group), newest watch by anyone, total plays,
total size, item count. Groups are keyed by the stable Plex keys (server, ratingKey of the
show / season / episode / movie), never by title.

Protection and open approvals work through the hierarchy: a group is hidden when anything
inside it or above it is protected or already approved (deleting a show would delete a
protected episode; approving a season inside an approved show would delete twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from deletion.history import HistoryState, history_state_get
from deletion.models import DeletionRequest, DeletionRule, Exclusion, Level
from media.formatting import GB, human_size
from media.models import MediaItem

TV_LEVELS = (Level.SHOW, Level.SEASON, Level.EPISODE)
GROUP_KEY = {
    Level.SHOW: "grandparent_plex_id",
    Level.SEASON: "parent_plex_id",
    Level.EPISODE: "plex_id",
    Level.MOVIE: "plex_id",
}
SORTS = {
    "size": ["-size"],
    "-size": ["size"],
    "watched": ["watched_sort"],
    "-watched": ["-watched_sort"],
    "added": ["added"],
    "-added": ["-added"],
    "plays": ["plays"],
    "-plays": ["-plays"],
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # "never watched" sorts as the oldest watch


@dataclass(frozen=True)
class CandidateFilter:
    """What the candidates page asks for (built by deletion.filters from the query string)."""

    rule: DeletionRule | None = None
    group_by: str = ""  # show | season | episode | movie; "" = shows and movies together
    media: str = ""  # "" (movies and TV), "movie" or "tv"
    section_id: int | None = None
    min_size_gb: Decimal | None = None
    never_watched: bool = False
    search: str = ""
    show: tuple[int, int] | None = None  # (server id, show key): drill into one show
    season: tuple[int, int] | None = None  # (server id, season key)
    sort: str = "size"

    @property
    def levels(self) -> list[str]:
        """The group levels on the page: TV at the chosen granularity, and/or movies."""
        rule = self.rule
        if self.group_by in (*TV_LEVELS, Level.MOVIE):
            levels = [self.group_by]
        else:  # the overview: whole shows and movies side by side
            levels = [Level.SHOW, Level.MOVIE]
        if self.media == "movie":
            levels = [lv for lv in levels if lv == Level.MOVIE]
        elif self.media == "tv":
            levels = [lv for lv in levels if lv != Level.MOVIE]
        if self.show is not None or self.season is not None:
            levels = [lv for lv in levels if lv != Level.MOVIE]
        if rule is not None:
            levels = [
                lv
                for lv in levels
                if (lv == Level.MOVIE and rule.include_movies)
                or (lv != Level.MOVIE and rule.include_tv)
            ]
        return levels


@dataclass(frozen=True)
class Candidate:
    """One group row; `days_*` beside the rule's thresholds explain why it matched."""

    level: str
    server_id: int
    plex_id: int
    title: str
    subtitle: str
    season_number: int | None
    episode_number: int | None
    show_key: int | None
    season_key: int | None
    items: int
    size: int
    added: datetime | None
    last_watched: datetime | None
    assumed_watched: datetime | None
    plays: int

    @property
    def ref(self) -> str:
        return f"{self.level}:{self.server_id}:{self.plex_id}"

    @property
    def human_size(self) -> str:
        return human_size(self.size)

    @property
    def days_since_added(self) -> int | None:
        return _days(self.added)

    @property
    def days_since_watched(self) -> int | None:
        return _days(self.assumed_watched)

    @property
    def watch_is_assumed(self) -> bool:
        """Never seen watched, but added before Tautulli's history starts."""
        return self.last_watched is None and self.assumed_watched is not None


@dataclass(frozen=True)
class CandidatePage:
    rows: list[Candidate]
    total_count: int
    total_bytes: int
    page: int
    per_page: int
    history: HistoryState

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total_count // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def human_total(self) -> str:
        return human_size(self.total_bytes)


def _days(when: datetime | None) -> int | None:
    return None if when is None else (timezone.now() - when).days


def _active_exclusions() -> QuerySet[Exclusion]:
    today = timezone.localdate()
    return Exclusion.objects.filter(Q(until__isnull=True) | Q(until__gte=today))


def _open_requests() -> QuerySet[DeletionRequest]:
    return DeletionRequest.objects.filter(status__in=DeletionRequest.OPEN)


def _hierarchy_q(level: str) -> Q:
    """Rows of a GroupRef table that sit inside or above the group of an outer item row."""
    if level == Level.SHOW:
        return Q(show_plex_id=OuterRef("grandparent_plex_id"))
    if level == Level.SEASON:
        return Q(season_plex_id=OuterRef("parent_plex_id")) | Q(
            level=Level.SHOW, plex_id=OuterRef("grandparent_plex_id")
        )
    if level == Level.EPISODE:
        return (
            Q(plex_id=OuterRef("plex_id"))
            | Q(plex_id=OuterRef("parent_plex_id"))
            | Q(plex_id=OuterRef("grandparent_plex_id"))
        )
    return Q(plex_id=OuterRef("plex_id"))


def _blocked(queryset: QuerySet, level: str) -> Exists:
    return Exists(queryset.filter(_hierarchy_q(level), server_id=OuterRef("server_id")))


def _assumed_watched(history_start: dict[int, datetime]):
    """Per item: its last watch, or the start of Tautulli's history if added before it."""
    whens = [
        When(server_id=sid, last_watched_at__isnull=True, added_at__lt=start, then=Value(start))
        for sid, start in history_start.items()
    ]
    if not whens:
        return F("last_watched_at")
    return Case(*whens, default=F("last_watched_at"), output_field=DateTimeField())


def _items(level: str, f: CandidateFilter, history: HistoryState) -> QuerySet[MediaItem]:
    item_type = MediaItem.MediaType.MOVIE if level == Level.MOVIE else MediaItem.MediaType.EPISODE
    qs = MediaItem.objects.filter(
        type=item_type, removed_at__isnull=True, server_id__in=history.eligible_server_ids
    )
    if level != Level.MOVIE:
        qs = qs.filter(**{f"{GROUP_KEY[level]}__isnull": False})
    if f.rule is not None and (section_ids := [s.pk for s in f.rule.sections.all()]):
        qs = qs.filter(section_id__in=section_ids)
    if f.section_id:
        qs = qs.filter(section_id=f.section_id)
    if f.show:
        qs = qs.filter(server_id=f.show[0], grandparent_plex_id=f.show[1])
    if f.season:
        qs = qs.filter(server_id=f.season[0], parent_plex_id=f.season[1])
    if f.search:
        title_field = "title" if level == Level.MOVIE else "grandparent_title"
        qs = qs.filter(**{f"{title_field}__icontains": f.search})
    return qs


def _title_columns(level: str) -> dict:
    null_int = Value(None, output_field=IntegerField())
    if level == Level.MOVIE:
        return {
            "title": Max("title"),
            "subtitle": Value(""),
            "season_number": null_int,
            "episode_number": null_int,
            "show_key": Value(None, output_field=IntegerField()),
            "season_key": Value(None, output_field=IntegerField()),
        }
    episode = level == Level.EPISODE
    return {
        "title": Max("title" if episode else "grandparent_title"),
        "subtitle": Max("grandparent_title" if episode else "parent_title"),
        "season_number": null_int if level == Level.SHOW else Max("season_number"),
        "episode_number": Max("episode_number") if episode else null_int,
        "show_key": Max("grandparent_plex_id"),
        "season_key": Max("parent_plex_id") if level != Level.SHOW else null_int,
    }


def _grouped(items: QuerySet[MediaItem], level: str, history: HistoryState) -> QuerySet:
    """One row per group with its aggregates; identical columns for every level (UNION)."""
    assumed = _assumed_watched(history.history_start)
    return (
        items.order_by()
        .annotate(group_key=F(GROUP_KEY[level]))
        .values("server_id", "group_key")
        .annotate(
            **_title_columns(level),
            items=Count("id"),
            size=Coalesce(Sum("file_size_bytes"), 0),
            added=Max("added_at"),
            last_watched=Max("last_watched_at"),
            assumed_watched=Max(assumed),
            watched_sort=Coalesce(Max(assumed), Value(_EPOCH)),
            plays=Coalesce(Sum("total_play_count"), 0),
            level=Value(str(level)),
        )
    )


def _apply_rule(groups: QuerySet, f: CandidateFilter, now: datetime) -> QuerySet:
    """Rule and form thresholds on the aggregates (SQL HAVING)."""
    rule = f.rule
    min_gb = [g for g in (f.min_size_gb, rule.min_size_gb if rule else None) if g]
    if rule is not None:
        watched_cutoff = now - timedelta(days=rule.inactivity_days)
        groups = groups.filter(
            Q(assumed_watched__isnull=True) | Q(assumed_watched__lt=watched_cutoff),
            added__lt=now - timedelta(days=rule.grace_days),
            plays__lt=rule.max_plays,
        )
    if min_gb:
        groups = groups.filter(size__gte=int(max(min_gb) * GB))
    if f.never_watched:
        groups = groups.filter(last_watched__isnull=True, plays=0)
    return groups


def candidate_groups(
    *, f: CandidateFilter, history: HistoryState, now: datetime | None = None
) -> list[QuerySet]:
    """One grouped, filtered, unordered queryset per level on the page."""
    now = now or timezone.now()
    parts = []
    for level in f.levels:
        items = _items(level, f, history).filter(
            ~_blocked(_active_exclusions(), level), ~_blocked(_open_requests(), level)
        )
        parts.append(_apply_rule(_grouped(items, level, history), f, now))
    return parts


def _to_candidate(row: dict) -> Candidate:
    return Candidate(
        level=row["level"],
        server_id=row["server_id"],
        plex_id=row["group_key"],
        title=row["title"] or "",
        subtitle=row["subtitle"] or "",
        season_number=row["season_number"],
        episode_number=row["episode_number"],
        show_key=row["show_key"],
        season_key=row["season_key"],
        items=row["items"],
        size=row["size"] or 0,
        added=row["added"],
        last_watched=row["last_watched"],
        assumed_watched=row["assumed_watched"],
        plays=row["plays"] or 0,
    )


def _totals(parts: list[QuerySet]) -> tuple[int, int]:
    count = size = 0
    for part in parts:
        agg = part.aggregate(n=Count("group_key"), bytes=Sum("size"))
        count += agg["n"] or 0
        size += agg["bytes"] or 0
    return count, size


def candidate_page_get(
    *, f: CandidateFilter, page: int = 1, per_page: int = 50, history: HistoryState | None = None
) -> CandidatePage:
    """A page of candidates plus the totals of the whole filter: 1 + (1 per level) queries."""
    history = history or history_state_get()
    parts = candidate_groups(f=f, history=history)
    if not parts:
        return CandidatePage([], 0, 0, 1, per_page, history)
    count, total_bytes = _totals(parts)
    pages = max(1, -(-count // per_page))
    page = min(max(1, page), pages)
    combined = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
    order = [*SORTS.get(f.sort, SORTS["size"]), "level", "server_id", "group_key"]
    start = (page - 1) * per_page
    rows = [_to_candidate(r) for r in combined.order_by(*order)[start : start + per_page]]
    return CandidatePage(rows, count, total_bytes, page, per_page, history)


def group_stats_get(
    *, refs: list[tuple[str, int, int]], history: HistoryState | None = None
) -> dict[tuple[str, int, int], Candidate]:
    """Fresh aggregates of the given groups (level, server id, key), ignoring rules and
    protections; gone items are never counted. One query per level asked for."""
    history = history or history_state_get()
    everything = HistoryState(
        frozenset({sid for _, sid, _ in refs}), {}, dict(history.history_start)
    )
    found: dict[tuple[str, int, int], Candidate] = {}
    for level in {lv for lv, _, _ in refs}:
        keys = Q()
        for lv, sid, key in refs:
            if lv == level:
                keys |= Q(server_id=sid, **{GROUP_KEY[level]: key})
        items = _items(level, CandidateFilter(), everything).filter(keys)
        for row in _grouped(items, level, everything):
            cand = _to_candidate(row)
            found[(cand.level, cand.server_id, cand.plex_id)] = cand
    return found


def rule_mismatches(*, c: Candidate, rule: DeletionRule, now: datetime | None = None) -> list[str]:
    """Why a group no longer matches its rule (empty when it still does)."""
    now = now or timezone.now()
    reasons = []
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


def group_is_protected(*, level: str, server_id: int, plex_id: int, show_key, season_key) -> bool:
    """Is this group, or anything inside or above it, protected right now?"""
    q = Q(plex_id=plex_id)
    if level == Level.SHOW:
        q |= Q(show_plex_id=plex_id)
    elif level == Level.SEASON:
        q |= Q(season_plex_id=plex_id) | Q(plex_id=show_key)
    elif level == Level.EPISODE:
        q |= Q(plex_id__in=[k for k in (show_key, season_key) if k])
    return _active_exclusions().filter(q, server_id=server_id).exists()


def default_rule_get() -> DeletionRule | None:
    return DeletionRule.objects.filter(enabled=True).order_by("pk").first()
