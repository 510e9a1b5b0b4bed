"""What a deletion group is: the levels, the page's filter, a candidate row, a page.

Plain dataclasses shared by the queries (deletion.queries) and the read API
(deletion.selectors); no database access here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Q
from django.utils import timezone

from deletion.history import HistoryState
from deletion.models import DeletionRule, Level
from media.formatting import episode_label, human_size
from media.inputs import int_in_range

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
NEVER_WATCHED_SORT = datetime(1970, 1, 1, tzinfo=UTC)  # "never watched" sorts as the oldest watch


class Ref(NamedTuple):
    """A group's address, the one encoding used everywhere: pages and forms carry it as
    "level:server_id:plex_id" (`str(ref)`), `Ref.parse` reads it back. It equals the
    plain (level, server_id, plex_id) tuple, so it keys dicts and sorts like one."""

    level: str
    server_id: int
    plex_id: int

    def __str__(self) -> str:
        return ref_text(self)

    @classmethod
    def of(cls, group) -> Ref:
        """The ref of anything addressing a group (a Candidate, a request, an exclusion)."""
        return cls(group.level, group.server_id, group.plex_id)

    @classmethod
    def parse(cls, value: str) -> Ref | None:
        """ "show:1:42" → Ref("show", 1, 42); anything malformed or past 64 bits → None."""
        parts = value.split(":")
        if len(parts) != 3 or parts[0] not in Level.values:
            return None
        server_id, plex_id = int_in_range(parts[1]), int_in_range(parts[2])
        if server_id is None or plex_id is None:
            return None
        return cls(parts[0], server_id, plex_id)


def ref_text(ref: tuple) -> str:
    """A ref as pages and forms carry it, "level:server_id:plex_id": `str(ref)` of a Ref, and
    the same for its plain tuple (the planner's pool holds thousands, not made Refs)."""
    return f"{ref[0]}:{ref[1]}:{ref[2]}"


def refs_parse(values: list[str]) -> list[Ref]:
    """The well-formed refs among `values`, without repeats, in their order."""
    return list(dict.fromkeys(r for r in map(Ref.parse, values) if r is not None))


@dataclass(frozen=True)
class CandidateFilter:
    """What the candidates page asks for (built by deletion.filters from the query string)."""

    rule: DeletionRule | None = None
    rules: tuple[DeletionRule, ...] = ()  # several rules: a group matches when any does
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
    def active_rules(self) -> list[DeletionRule]:
        """The rules the page applies, in priority order (none: every group, no thresholds)."""
        return list(self.rules) or ([self.rule] if self.rule is not None else [])

    @property
    def levels(self) -> list[str]:
        """The group levels on the page: TV at the chosen granularity, and/or movies."""
        rules = self.active_rules
        found = {lv for rule in rules for lv in self.levels_for(rule)}
        return [lv for lv in self.levels_for(None) if not rules or lv in found]

    def levels_for(self, rule: DeletionRule | None, levels: tuple[str, ...] = ()) -> list[str]:
        """The page's levels (or these `levels`) that `rule` (None: no rule) can select."""
        if levels:
            levels = list(levels)
        elif self.group_by in (*TV_LEVELS, Level.MOVIE):
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
    show_plex_id: int | None
    season_plex_id: int | None
    items: int
    size: int
    added: datetime | None
    last_watched: datetime | None
    assumed_watched: datetime | None
    plays: int
    rule_id: int | None = None  # the rule that selected it (several rules: the first)
    rule_name: str = ""
    requested_by: tuple[str, ...] = ()  # Seerr requesters (Tautulli names when linked)
    watched_by: tuple[str, ...] = ()  # users with a play past Tautulli's watched threshold

    @property
    def ref(self) -> Ref:
        return Ref.of(self)

    @property
    def human_size(self) -> str:
        return human_size(self.size)

    @property
    def episode_label(self) -> str:
        return episode_label(self.season_number, self.episode_number or 0)

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


def changed_since_approval(request, c: Candidate | None) -> str:
    """Why an approved group (a DeletionRequest) is no longer what was approved: gone,
    watched or grown since ("" when it is unchanged). The queue and the execution agree."""
    if c is None:
        return "Nothing of it is left in Plex."
    if c.last_watched and c.last_watched > request.approved_at:
        return f"Watched since approval ({c.last_watched:%Y-%m-%d %H:%M})."
    if c.added and c.added > request.approved_at:
        return f"New content added since approval ({c.added:%Y-%m-%d %H:%M})."
    return ""


def server_keys_q(pairs, column: str) -> Q:
    """Rows whose (server_id, `column`) is among `pairs`: one `IN (…)` per server, so the
    expression stays shallow however many pairs (an OR per pair breaks SQLite past ~1000)."""
    by_server: dict[int, set[int]] = {}
    for server_id, key in pairs:
        by_server.setdefault(server_id, set()).add(key)
    where = Q(pk__in=[])
    for server_id, keys in sorted(by_server.items()):
        where |= Q(server_id=server_id, **{f"{column}__in": sorted(keys)})
    return where
