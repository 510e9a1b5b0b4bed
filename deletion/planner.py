"""Planning to a target: which candidate groups to delete to free N GB (or get down to P %).

The pool is every show, season and movie that an enabled rule selects (the candidates
selector decides; protected and already approved groups are never in it). A plan walks the
pool in the chosen ordering, never holds a season and its show together (a show taken later
replaces its seasons), then drops every group it can spare, so no group is superfluous.
Only the numbers of the whole pool are read; titles are fetched for the chosen groups alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from itertools import accumulate, islice
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BigIntegerField, Max, Value
from django.utils import timezone

from deletion.groups import Candidate, CandidateFilter, Ref, ref_text
from deletion.history import HistoryState, history_state_get
from deletion.models import DeletionRule, Level
from deletion.queries import candidate_groups
from deletion.services import BulkResult, candidates_approve
from deletion.storage import StorageSummary, storage_summary_get
from media.formatting import GB, human_size
from media.models import MediaItem

PLAN_LEVELS = (Level.SHOW, Level.SEASON, Level.MOVIE)
ROWS_SHOWN = 100  # a plan for a far target can hold thousands of groups; all are approved,
# the page lists the first hundred (rendering 300 rows cost more than choosing the plan)

ORDERINGS = {
    "score": "Score (default): size × days nobody watched it, so a big group idle for a "
    "year goes before a small one idle for a month.",
    "size": "Biggest first: the largest groups that fit in what is left to free, then the "
    "smallest one that closes the gap, so the plan frees as little over the target as it can.",
    "idle": "Longest unwatched first: never-watched groups, then the ones idle the longest "
    "(bigger first among equals).",
}


class PlanError(ValueError):
    """The target cannot be computed (e.g. a percentage without a known capacity)."""


@dataclass(frozen=True)
class PlanTarget:
    free_gb: float | None = None
    used_percent: float | None = None

    @property
    def label(self) -> str:
        if self.free_gb is not None:
            return f"free {human_size(int(self.free_gb * GB))}"
        return f"bring used space down to {self.used_percent:g} %"


class Option(NamedTuple):
    """One group of the pool: its numbers, the ids of the rules that select it (the first
    approves it), its show (seasons). `row` holds the raw numbers (see POOL_COLUMNS), read
    only for the rows shown.

    The pool itself holds plain tuples in this field order (refs too), read by index
    (REF, SIZE, …): the cycle collector stops tracking a plain tuple of plain values after
    its first pass, never a NamedTuple or a dataclass. Thousands of tracked options (and a
    list of rules each) were promoted and set off a full collection (~50 ms at 8k groups)
    on about every plan. `Option._make(o)` gives the named view of the few rows shown."""

    ref: Ref
    size: int
    idle_days: int
    rules: tuple[int, ...]
    row: dict | tuple
    show: Ref | None = None  # the show above a season

    @property
    def score(self) -> int:
        return _score(self)


REF, SIZE, IDLE, RULES, ROW, SHOW = range(6)  # Option's fields, for the pool's plain tuples


def _score(o: Option) -> int:
    return o[SIZE] * max(o[IDLE], 1)


def _pick(rule_id: int, ref: tuple) -> str:
    """The approve form's value for a group: the rule that approves it and the group's
    ref, "rule_id:level:server:key" (plan_picks_parse reads it back)."""
    return f"{rule_id}:{ref_text(ref)}"


@dataclass(slots=True)
class PlanEntry:  # one per row shown (a far target's plan holds thousands of groups)
    ref: Ref
    size: int
    rules: list[DeletionRule]
    cumulative_bytes: int
    candidate: Candidate | None = None  # titles and dates: only for the rows shown

    @property
    def pick(self) -> str:
        return _pick(self.rules[0].pk, self.ref)

    @property
    def cumulative_human(self) -> str:
        return human_size(self.cumulative_bytes)


@dataclass(frozen=True)
class Plan:
    target: PlanTarget
    ordering: str
    need_bytes: int
    chosen: list[Option]  # every group of the plan, in its ordering
    pool_size: int
    storage: StorageSummary
    history: HistoryState
    rules: dict[int, DeletionRule] = field(default_factory=dict)  # the enabled ones, by id
    shown: list[PlanEntry] = field(default_factory=list)  # the first ROWS_SHOWN, labelled

    @cached_property
    def freed_bytes(self) -> int:
        return sum(o[SIZE] for o in self.chosen)

    @property
    def count(self) -> int:
        return len(self.chosen)

    @cached_property
    def entries(self) -> list[PlanEntry]:
        """Every group as an entry (the page reads only `shown`, built up front)."""
        sizes = accumulate(o[SIZE] for o in self.chosen)
        rest = islice(zip(self.chosen, sizes, strict=True), len(self.shown), None)
        return [*self.shown, *(_entry(o, total, self.rules) for o, total in rest)]

    @property
    def shortfall_bytes(self) -> int:
        return max(0, self.need_bytes - self.freed_bytes)

    @property
    def picks(self) -> list[str]:
        """The approve form's values, one per group (see _pick)."""
        return [_pick(o[RULES][0], o[REF]) for o in self.chosen]

    @property
    def picks_text(self) -> str:
        """Every pick in one space-separated value: one hidden input for a plan of
        thousands of groups instead of one each (plan_picks_parse reads both)."""
        return " ".join(self.picks)

    @property
    def not_shown(self) -> int:
        return max(0, len(self.chosen) - ROWS_SHOWN)

    @property
    def reached(self) -> bool:
        return self.shortfall_bytes == 0

    @property
    def after_percent(self) -> int | None:
        s = self.storage
        if not s.capacity_bytes:
            return None
        after = max(0, s.used_bytes - s.approved_bytes - self.freed_bytes)
        return max(0, min(100, round(100 * after / s.capacity_bytes)))

    def human(self, name: str) -> str:
        return human_size(getattr(self, name))


def plan_need_bytes(*, target: PlanTarget, storage: StorageSummary) -> int:
    """Bytes a plan must free. A percentage counts what is already approved as gone."""
    if target.free_gb is not None:
        return max(0, int(target.free_gb * GB))
    if not storage.capacity_bytes:
        raise PlanError("The storage capacity is not set, so a percentage cannot be planned.")
    goal = int(storage.capacity_bytes * float(target.used_percent) / 100)
    return max(0, storage.used_bytes - storage.approved_bytes - goal)


def _when(value) -> datetime | None:
    """A raw-cursor datetime: PostgreSQL gives aware datetimes, SQLite text for computed
    columns (read with fromisoformat, a C parser: thousands of rows per plan)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _idle_days(assumed_watched, first_added, now: datetime) -> int:
    """Days since anyone watched it, or since it arrived when nobody ever did."""
    since = _when(assumed_watched) or _when(first_added) or now
    return max(0, (now - since).days)


def _idle_days_reader(now: datetime) -> Callable[[object, object], int]:
    """_idle_days for thousands of pool rows: SQLite's naive UTC text is compared with a
    naive `now` (no time zone attached per row), and repeated values (a history start
    shared by every group added before it) are parsed once."""
    naive_now, seen = now.astimezone(UTC).replace(tzinfo=None), {}

    def read(assumed_watched, first_added) -> int:
        value = assumed_watched if assumed_watched is not None else first_added
        if not isinstance(value, str):
            return _idle_days(assumed_watched, first_added, now)
        days = seen.get(value)
        if days is None:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                days = seen[value] = max(0, (naive_now - parsed).days)
            else:
                days = seen[value] = max(0, (now - parsed).days)
        return days

    return read


# The pool query's columns (the candidates selector's grouped rows), read as plain tuples.
POOL_COLUMNS = (
    "server_id", "group_plex_id", "items", "size", "added", "first_added", "last_watched",
    "plays", "level", "rule_id", "rule_rank", "assumed_watched", "show_plex_id",
)  # fmt: skip
_COL = {name: n for n, name in enumerate(POOL_COLUMNS)}


def _dates_as_text(cursor) -> None:
    """PostgreSQL: read this cursor's timestamps as ISO text, as SQLite gives them. psycopg
    builds an aware datetime per value in Python (four per pool row, 30 ms for 8k groups);
    the planner parses only the ones it needs, each distinct value once (_when and
    _idle_days_reader read both forms)."""
    if connection.vendor == "postgresql":
        from psycopg.types.string import TextLoader

        cursor.cursor.adapters.register_loader("timestamptz", TextLoader)


def _pool_rows(rule: DeletionRule, history: HistoryState) -> list[tuple]:
    """The rule's shows, seasons and movies: one UNION query through the cursor, unordered
    (a plan sorts), as tuples in POOL_COLUMNS order; dates stay raw until a group is
    chosen."""
    f = CandidateFilter(rule=rule)
    parts = [  # plus the show above each season (its episodes' show key)
        part.annotate(
            show_plex_id=Value(None, output_field=BigIntegerField())
            if level == Level.MOVIE
            else Max("grandparent_plex_id")
        )
        for level, part in zip(
            f.levels_for(rule, PLAN_LEVELS),
            candidate_groups(f=f, history=history, levels=PLAN_LEVELS),
            strict=True,
        )
    ]
    try:
        combined = parts[0].union(*parts[1:], all=True) if parts else None
        sql, params = combined.query.sql_with_params() if combined is not None else ("", ())
    except EmptyResultSet:  # no server with a trustworthy history
        return []
    if not sql:
        return []
    with connection.cursor() as cursor:
        _dates_as_text(cursor)
        cursor.execute(sql, params)
        names = tuple(col[0] for col in cursor.description)
        rows = cursor.fetchall()
    if names != POOL_COLUMNS:  # a selector change must not silently mix columns up
        raise RuntimeError(f"unexpected pool columns: {names}")
    return rows


def _labels(options: list[Option]) -> dict[Ref, dict]:
    """Titles of the chosen groups from their own show, season and movie rows: indexed
    lookups by key, where aggregating each group's episodes again would cost more than
    the whole plan (hundreds of groups for a large target)."""
    keys: dict[tuple[str, int], list[int]] = {}
    for o in options:
        keys.setdefault((o[REF][0], o[REF][1]), []).append(o[REF][2])
    found = {}
    for (level, sid), plex_ids in keys.items():
        rows = MediaItem.objects.filter(server_id=sid, type=level, plex_id__in=plex_ids).values(
            "plex_id", "title", "parent_title", "parent_plex_id", "season_number"
        )
        for row in rows:
            found[Ref(level, sid, row["plex_id"])] = row
    return found


def _candidate(o: Option, label: dict, rule: DeletionRule) -> Candidate:
    o = Option._make(o)
    o = o._replace(ref=Ref(*o.ref), show=Ref(*o.show) if o.show else None)
    season = o.ref.level == Level.SEASON
    row = o.row if isinstance(o.row, dict) else dict(zip(POOL_COLUMNS, o.row, strict=True))
    return Candidate(
        level=o.ref.level,
        server_id=o.ref.server_id,
        plex_id=o.ref.plex_id,
        title=(label.get("parent_title") if season else label.get("title")) or "",
        subtitle=(label.get("title") if season else "") or "",
        season_number=label.get("season_number") if season else None,
        episode_number=None,
        show_plex_id=o.show.plex_id
        if o.show
        else (o.ref.plex_id if o.ref.level == "show" else None),
        season_plex_id=o.ref.plex_id if season else None,
        items=row["items"],
        size=o.size,
        added=_when(row["added"]),
        last_watched=_when(row["last_watched"]),
        assumed_watched=_when(row["assumed_watched"]),
        plays=int(row["plays"] or 0),
        rule_id=rule.pk,
        rule_name=rule.name,
    )


def plan_candidates(options: list[Option], rules: dict[int, DeletionRule]) -> list[Candidate]:
    """The options as labelled candidate rows, in the same order (`rules`: by id)."""
    labels = _labels(options)
    return [_candidate(o, labels.get(o[REF], {}), rules[o[RULES][0]]) for o in options]


def _entry(
    o: Option, total: int, rules: dict[int, DeletionRule], candidate: Candidate | None = None
) -> PlanEntry:
    return PlanEntry(Ref(*o[REF]), o[SIZE], [rules[pk] for pk in o[RULES]], total, candidate)


def plan_pool_get(
    *, rules: list[DeletionRule], history: HistoryState, now: datetime | None = None
) -> list[Option]:
    """Every show, season and movie selected by any of `rules`: one query per rule. Plain
    tuples in Option's field order (see Option)."""
    now = now or timezone.now()
    pool: dict[tuple, tuple] = {}
    level, sid, key, size_at = _COL["level"], _COL["server_id"], _COL["group_plex_id"], _COL["size"]
    watched, first, idle_days = _COL["assumed_watched"], _COL["first_added"], _idle_days_reader(now)
    show_at, show_level, season_level = _COL["show_plex_id"], Level.SHOW.value, Level.SEASON.value
    for rule in rules:
        rule_ids = (rule.pk,)
        for row in _pool_rows(rule, history):
            ref = (row[level], row[sid], row[key])
            if (known := pool.get(ref)) is not None:
                pool[ref] = (*known[:RULES], (*known[RULES], *rule_ids), *known[ROW:])
                continue
            show = None
            if ref[0] == season_level and row[show_at] is not None:
                show = (show_level, ref[1], row[show_at])
            idle = idle_days(row[watched], row[first])
            pool[ref] = (ref, int(row[size_at] or 0), idle, rule_ids, row, show)
    return [o for o in pool.values() if o[SIZE] > 0]


def reclaimable_get(*, history: HistoryState | None = None) -> dict[str, tuple[int, int]]:
    """Level → (groups, bytes) the enabled rules select, each group counted once however
    many rules select it. One query; the levels are alternatives, never to be added up."""
    history = history or history_state_get()
    parts, levels = [], (*PLAN_LEVELS, Level.EPISODE)
    for rule in DeletionRule.objects.filter(enabled=True).order_by("pk"):
        f = CandidateFilter(rule=rule)
        parts += candidate_groups(f=f, history=history, levels=levels)
    found = {level: (0, 0) for level in (Level.SHOW, Level.SEASON, Level.EPISODE, Level.MOVIE)}
    if not parts:
        return found
    try:
        inner, params = parts[0].union(*parts[1:], all=True).query.sql_with_params()
    except EmptyResultSet:
        return found
    qn = connection.ops.quote_name
    sql = (
        f"SELECT d.{qn('level')}, COUNT(*), SUM(d.{qn('size')}) FROM (SELECT DISTINCT "
        f"g.{qn('level')}, g.{qn('server_id')}, g.{qn('group_plex_id')}, g.{qn('size')} "
        f"FROM ({inner}) g) d GROUP BY d.{qn('level')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for level, count, size in cursor.fetchall():
            found[level] = (int(count), int(size or 0))
    return found


class _Chosen:
    """The groups taken so far; a show replaces any of its seasons already taken. Options
    are read by index (see Option)."""

    def __init__(self) -> None:
        self.items: dict[tuple, Option] = {}
        self.seasons: dict[tuple, dict[tuple, Option]] = {}  # show → its seasons taken
        self.freed = 0

    def gain(self, o: Option) -> int | None:
        """Bytes `o` adds; None when it cannot be added (taken, or its show is)."""
        ref, show = o[REF], o[SHOW]
        if ref in self.items or (show is not None and show in self.items):
            return None
        if ref[0] == Level.SHOW:
            return o[SIZE] - sum(s[SIZE] for s in self.seasons.get(ref, {}).values())
        return o[SIZE]

    def add(self, o: Option, gain: int) -> None:
        """Take `o`, which adds `gain` bytes (see gain)."""
        self.freed += gain
        ref = o[REF]
        if ref[0] == Level.SHOW:
            for season in self.seasons.pop(ref, {}):
                del self.items[season]
        elif o[SHOW] is not None:
            self.seasons.setdefault(o[SHOW], {})[ref] = o
        self.items[ref] = o

    def drop(self, o: Option) -> None:
        del self.items[o[REF]]
        self.seasons.get(o[SHOW], {}).pop(o[REF], None)
        self.freed -= o[SIZE]


def _walk(ordered: list[Option], need: int, fit: bool) -> _Chosen:
    """Take groups in order until `need` is reached. With `fit`, skip a group that would
    overshoot and close the gap at the end with the smallest one that reaches it."""
    chosen, skipped = _Chosen(), []
    for o in ordered:
        if chosen.freed >= need:
            break
        gain = chosen.gain(o)
        if gain is None or gain <= 0:
            continue
        if fit and chosen.freed + gain > need:
            skipped.append(o)
            continue
        chosen.add(o, gain)
    while chosen.freed < need and skipped:
        gains = [(g, o) for o in skipped if (g := chosen.gain(o))]
        closers = [(g, o) for g, o in gains if chosen.freed + g >= need]
        if not gains:
            break
        gain, pick = min(closers, key=lambda p: p[0]) if closers else max(gains, key=lambda p: p[0])
        chosen.add(pick, gain)
        skipped.remove(pick)
    return chosen


def _prune(chosen: _Chosen, need: int, drop_first: Callable[[Option], tuple]) -> None:
    """Drop every group the plan can spare. One pass suffices: the total only falls, so a
    group that could not be dropped when visited can never be dropped later."""
    for o in sorted(chosen.items.values(), key=drop_first):
        if chosen.freed - o[SIZE] >= need:
            chosen.drop(o)


# ordering → (preference key, fit the gap?, which groups to try dropping first)
_STRATEGY: dict[str, tuple[Callable, bool, Callable]] = {
    "score": (lambda o: (-_score(o), o[REF]), False, lambda o: (_score(o), o[REF])),
    "size": (lambda o: (-o[SIZE], o[REF]), True, lambda o: (-o[SIZE], o[REF])),
    "idle": (
        lambda o: (-o[IDLE], -o[SIZE], o[REF]),
        False,
        lambda o: (o[IDLE], o[SIZE], o[REF]),
    ),
}


def plan_choose(*, pool: list[Option], need: int, ordering: str = "score") -> list[Option]:
    """The chosen groups, in the ordering's order (the page's cumulative column)."""
    prefer, fit, drop_first = _STRATEGY.get(ordering, _STRATEGY["score"])
    if need <= 0:
        return []
    ordered = sorted(pool, key=prefer)
    chosen = _walk(ordered, need, fit)
    _prune(chosen, need, drop_first)
    if not fit:  # taken in order (a show replaces its seasons, dropping keeps the order)
        return list(chosen.items.values())
    return sorted(chosen.items.values(), key=prefer)  # the gap's closers came last


def plan_get(*, target: PlanTarget, ordering: str = "score") -> Plan:
    """The plan for a target under the enabled rules (raises PlanError when it cannot)."""
    storage = storage_summary_get()
    need = plan_need_bytes(target=target, storage=storage)
    history = history_state_get()
    rules = list(DeletionRule.objects.filter(enabled=True).order_by("pk"))
    pool = plan_pool_get(rules=rules, history=history)
    picked = plan_choose(pool=pool, need=need, ordering=ordering)
    by_id = {rule.pk: rule for rule in rules}
    firsts = picked[:ROWS_SHOWN]
    totals = accumulate(o[SIZE] for o in firsts)
    shown = [
        _entry(o, total, by_id, c)
        for o, total, c in zip(firsts, totals, plan_candidates(firsts, by_id), strict=True)
    ]
    return Plan(target, ordering, need, picked, len(pool), storage, history, by_id, shown)


def plan_picks_parse(values: list[str]) -> list[tuple[int, Ref]]:
    """The approve form's "rule_id:level:server:key" values (several per value when
    space-separated, see Plan.picks_text); malformed ones are ignored."""
    picks = []
    for value in (v for text in values for v in text.split()):
        rule_id, _, ref_text = value.partition(":")
        ref = Ref.parse(ref_text)
        if rule_id.isdigit() and ref is not None:
            picks.append((int(rule_id), ref))
    return list(dict.fromkeys(picks))


def plan_approve(*, picks: list[tuple[int, Ref]], user) -> BulkResult:
    """Approve a plan through the normal approval path (fresh re-check, audit log), each
    group under the rule that selected it."""
    rules = DeletionRule.objects.filter(enabled=True).in_bulk({rid for rid, _ in picks})
    by_rule: dict[int, list[Ref]] = {}
    for rule_id, ref in picks:
        by_rule.setdefault(rule_id, []).append(ref)
    result = BulkResult()
    for rule_id, refs in by_rule.items():
        if rule_id not in rules:
            result.refused += [f"{lv} {key}: its rule is gone or disabled" for lv, _, key in refs]
            continue
        part = candidates_approve(refs=refs, user=user, rule=rules[rule_id])
        result.done += part.done
        result.refused += part.refused
    return result


def top_candidates_get(*, history: HistoryState | None = None, limit: int = 8) -> list[dict]:
    """The best shows and movies by the planner's score, as plain dicts (stored with each
    storage snapshot, so the dashboard shows them without aggregating)."""
    history = history or history_state_get()
    rules = {r.pk: r for r in DeletionRule.objects.filter(enabled=True).order_by("pk")}
    pool = plan_pool_get(rules=list(rules.values()), history=history)
    pool = [Option._make(o) for o in pool if o[REF][0] != Level.SEASON]
    best = sorted(pool, key=_STRATEGY["score"][0])[:limit]
    return [
        {
            "ref": c.ref,
            "level": c.level,
            "title": c.title,
            "size": c.size,
            "idle_days": o.idle_days,
            "rules": [rules[pk].name for pk in o.rules],
        }
        for o, c in zip(best, plan_candidates(best, rules), strict=True)
    ]
