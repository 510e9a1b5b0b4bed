"""The SQL of the candidates: grouped aggregates per level, built with the ORM.

Statistics live on episodes and movies only; a show or season is aggregated from its live
episodes, grouped by the stable Plex keys (never by title). The page query reads only
columns held by the covering indexes on MediaItem (cand_*_idx); titles are fetched afterwards for
the page's groups alone. Protection and open approvals work through the hierarchy: a group
is hidden when anything inside or above it is protected or already approved.

Several rules (or one about people) on the page: one pass per level (PassPart, pass_sql), the level
aggregated once and each rule a condition on its rows, the first that passes naming the
group. candidate_groups (one aggregation per rule) stays for the planner and single rules.
A page of such a pass's episodes or movies reads keys, totals and the numbers it is ordered
by first, and computes which rule and the rest of its numbers for the page's own rows
(page_rows).
"""

import operator
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from deletion.groups import GROUP_KEY, NEVER_WATCHED_SORT, SORTS, Candidate, CandidateFilter, Ref
from deletion.history import HistoryState
from deletion.models import DeletionRequest, DeletionRule, Exclusion, Level
from deletion.people import (
    ignore_corrections,
    ignore_idle,
    ignore_idle_sql,
    ignored_user_ids,
    plays_without_sql,
    requester_filter,
    requester_sql,
    their_last_sql,
    theirs_sql,
    touched_q,
)
from media.formatting import GB
from media.models import MediaItem
from syncing.services.ignored_numbers import ignored_numbers_users


def active_exclusions() -> QuerySet[Exclusion]:
    today = timezone.localdate()
    return Exclusion.objects.filter(Q(until__isnull=True) | Q(until__gte=today))


def open_requests() -> QuerySet[DeletionRequest]:
    return DeletionRequest.objects.filter(status__in=DeletionRequest.OPEN)


# How an item row of a level relates to GroupRef rows (exclusions, open requests) that sit
# inside or above its group: (item column, extra filter on the GroupRef, GroupRef column,
# the GroupRef levels that can match at all: Plex keys are unique per server, so only a
# season ref carries a season's key, and only TV refs carry a show's or season's key).
_TV = (Level.SHOW, Level.SEASON, Level.EPISODE)
_HIERARCHY = {
    Level.SHOW: [("grandparent_plex_id", {}, "show_plex_id", _TV)],
    Level.SEASON: [
        ("parent_plex_id", {}, "season_plex_id", (Level.SEASON, Level.EPISODE)),
        ("grandparent_plex_id", {"level": Level.SHOW}, "plex_id", (Level.SHOW,)),
    ],
    Level.EPISODE: [
        ("plex_id", {}, "plex_id", (Level.EPISODE,)),
        ("parent_plex_id", {}, "plex_id", (Level.SEASON,)),
        ("grandparent_plex_id", {}, "plex_id", (Level.SHOW,)),
    ],
    Level.MOVIE: [("plex_id", {}, "plex_id", (Level.MOVIE,))],
}


def blocking_levels(server_ids) -> set[tuple[int, str]]:
    """(server id, level) of every active protection and open approval: a hierarchy check
    no such row can match is left out of the page query (each costs a lookup per row)."""
    found = [
        source.filter(server_id__in=server_ids).order_by().values_list("server_id", "level")
        for source in (active_exclusions(), open_requests())
    ]
    return set(found[0].union(found[1]))


# Shows and seasons are checked once per group (HAVING on the group's keys: 2k or 10k
# lookups) instead of once per episode row (100k): every hierarchy column of these levels
# is constant within a group, so MAX() of it is the group's key.
_GROUP_BLOCK_KEYS = {Level.SHOW: {"grandparent_plex_id"}, Level.SEASON: {"parent_plex_id", "grandparent_plex_id"}}  # fmt: skip


def _unblocked(level: str, server_ids, present: set[tuple[int, str]], on_groups: bool = False) -> Q:
    """Items whose group has nothing protected or approved inside or above it (with
    `on_groups`, the same on a show or season aggregate: see _GROUP_BLOCK_KEYS).

    Uncorrelated `NOT IN (SELECT key FROM exclusions UNION ALL SELECT key FROM requests)`
    per server and hierarchy column: each subquery runs once, where a correlated EXISTS
    would run once per episode row (measured 5x slower on 100k rows).
    """
    per_server = []
    for sid in sorted(server_ids):
        q = Q(server_id=sid)
        for item_col, extra, ref_col, ref_levels in _HIERARCHY[level]:
            if not any((sid, lv) in present for lv in ref_levels):
                continue
            item_col = f"block_{item_col}" if on_groups else item_col
            keys = [
                source.filter(server_id=sid, **extra, **{f"{ref_col}__isnull": False})
                .order_by()
                .values(ref_col)
                for source in (active_exclusions(), open_requests())
            ]
            q &= ~Q(**{f"{item_col}__in": keys[0].union(keys[1], all=True)})
        per_server.append(q)
    if on_groups:  # no pk in a HAVING (it would group by row); no server: nothing passes
        return reduce(operator.or_, per_server) if per_server else Q(server_id__in=[])
    return reduce(operator.or_, per_server, Q(pk__in=[]))


def _assumed_watched(
    history_start: dict[int, datetime], last: str = "last_watched", first: str = "first_added"
):
    """Group level: its newest watch; if never watched but holding an item added before
    Tautulli's history starts, the start of that history (possibly watched then)."""
    whens = [
        When(server_id=sid, **{f"{first}__lt": start}, then=Value(start))
        for sid, start in history_start.items()
    ]
    if not whens:
        return F(last)
    return Coalesce(last, Case(*whens, default=None, output_field=DateTimeField()))


def group_items(
    level: str, f: CandidateFilter, history: HistoryState, rule_sections: list[int] = ()
) -> QuerySet[MediaItem]:
    item_type = MediaItem.MediaType.MOVIE if level == Level.MOVIE else MediaItem.MediaType.EPISODE
    qs = MediaItem.objects.filter(
        type=item_type, removed_at__isnull=True, server_id__in=history.eligible_server_ids
    )
    if level != Level.MOVIE:
        qs = qs.filter(**{f"{GROUP_KEY[level]}__isnull": False})
    if rule_sections:
        qs = qs.filter(section_id__in=rule_sections)
    if f.section_id:
        qs = qs.filter(section_id=f.section_id)
    if f.show:
        qs = qs.filter(server_id=f.show[0], grandparent_plex_id=f.show[1])
    if f.season:
        qs = qs.filter(server_id=f.season[0], parent_plex_id=f.season[1])
    if f.search:
        qs = qs.filter(_title_matches(level, f.search, history.eligible_server_ids))
    return qs


def _title_matches(level: str, search: str, server_ids) -> Q:
    """Title search. TV searches the show rows (2k titles, not 100k episode rows) and keeps
    the episodes under the matching show keys, so the page query stays index-only."""
    if level == Level.MOVIE:
        return Q(title__icontains=search)
    shows = MediaItem.objects.filter(type=MediaItem.MediaType.SHOW, title__icontains=search)
    per_server = [
        Q(server_id=sid, grandparent_plex_id__in=shows.filter(server_id=sid).values("plex_id"))
        for sid in sorted(server_ids)
    ]
    return reduce(operator.or_, per_server, Q(pk__in=[]))


def _stat_columns(level: str) -> dict:
    """A group's numbers (the UNION's column order). An episode or movie is a group of
    one: plain columns and no GROUP BY, so the rule's filters land in WHERE."""
    if level in (Level.EPISODE, Level.MOVIE):
        return {
            "items": Value(1),
            # A literal 0: SQLite matches its index on this expression (media 0006) only
            # against the same text, never against a bound parameter.
            "size": Coalesce(F("file_size_bytes"), RawSQL("0", (), BigIntegerField())),
            "added": F("added_at"),
            "first_added": F("added_at"),
            "last_watched": F("last_watched_at"),
            "plays": F("total_play_count"),
        }
    return {
        "items": Count("*"),  # not Count("id"): PostgreSQL's covering indexes lack the id
        "size": Coalesce(Sum("file_size_bytes"), 0),
        "added": Max("added_at"),
        "first_added": Min("added_at"),
        "last_watched": Max("last_watched_at"),
        "plays": Coalesce(Sum("total_play_count"), 0),
    }


def group_rows(
    items: QuerySet[MediaItem],
    level: str,
    history: HistoryState,
    rule: DeletionRule | None = None,
    rank: int = 0,
    ignored: list[int] | None = None,
) -> QuerySet:
    """One row per group with its numbers only: every column it reads is in the covering
    indexes on MediaItem (cand_*_idx), so the page query never touches the table rows.
    `rule_id` / `rule_rank` say which rule selected the row (several rules: the first).
    A rule that ignores users gets their plays left out (deletion.people); the numbers of
    every user stay available as `plays_all` / `last_all` / `first_all` (`ignored`: the
    rule's ignored user ids when the caller has them already)."""
    rows = (
        items.order_by()
        .annotate(group_plex_id=F(GROUP_KEY[level]))
        .values("server_id", "group_plex_id")
    )
    stats = _stat_columns(level)
    if ignored := (ignored_user_ids(rule) if ignored is None else ignored):
        rows = rows.alias(
            plays_all=stats["plays"], last_all=stats["last_watched"], first_all=stats["first_added"]
        )
        stats.update(ignore_corrections(level, ignored))
    return rows.annotate(
        **stats,
        level=Value(str(level)),
        rule_id=Value(rule.pk if rule else None, output_field=IntegerField()),
        rule_rank=Value(rank),
    ).annotate(assumed_watched=_assumed_watched(history.history_start))


def _label_columns(level: str) -> dict:
    null_int = Value(None, output_field=IntegerField())
    if level == Level.MOVIE:
        return {"title": F("title")}
    if level == Level.EPISODE:
        return {
            "title": F("title"),
            "subtitle": F("grandparent_title"),
            "season_number": F("season_number"),
            "episode_number": F("episode_number"),
            "show_plex_id": F("grandparent_plex_id"),
            "season_plex_id": F("parent_plex_id"),
        }
    show = level == Level.SHOW
    return {
        "title": Max("grandparent_title"),
        "subtitle": Max("parent_title"),
        "season_number": null_int if show else Max("season_number"),
        "show_plex_id": Max("grandparent_plex_id"),
        "season_plex_id": null_int if show else Max("parent_plex_id"),
    }


def _labels_get(refs: list[tuple[str, int, int]]) -> dict[tuple[str, int, int], dict]:
    """Titles and keys of a page's groups, from their live items: one query per level."""
    found: dict[tuple[str, int, int], dict] = {}
    for level, keys in ref_batches(refs):
        item_type = (
            MediaItem.MediaType.MOVIE if level == Level.MOVIE else MediaItem.MediaType.EPISODE
        )
        rows = (
            MediaItem.objects.filter(keys, type=item_type, removed_at__isnull=True)
            .order_by()
            .annotate(group_plex_id=F(GROUP_KEY[level]))
            .values("server_id", "group_plex_id")
            .annotate(**_label_columns(level))
        )
        for row in rows:
            found[(level, row["server_id"], row["group_plex_id"])] = row
    return found


def _apply_rule(
    groups: QuerySet,
    f: CandidateFilter,
    now: datetime,
    rule: DeletionRule | None,
    people: tuple[str, list[int], HistoryState] | None = None,
) -> QuerySet:
    """Rule and form thresholds on the aggregates (SQL HAVING)."""
    min_gb = [g for g in (f.min_size_gb, rule.min_size_gb if rule else None) if g]
    if rule is not None:
        cutoff = now - timedelta(days=rule.inactivity_days)
        idle = Q(plays__lt=rule.max_plays) & (
            Q(assumed_watched__isnull=True) | Q(assumed_watched__lt=cutoff)
        )
        if people is not None and people[1]:  # (level, ignored user ids, history)
            level, ignored, history = people
            idle = ignore_idle(
                level, ignored, history.eligible_server_ids, max_plays=rule.max_plays,
                cutoff=cutoff, history_start=history.history_start,
            )  # fmt: skip
        groups = groups.filter(Q(added__lt=now - timedelta(days=rule.grace_days)) & idle)
    if min_gb:
        groups = groups.filter(size__gte=int(max(min_gb) * GB))
    if f.never_watched:
        groups = groups.filter(last_watched__isnull=True, plays=0)
    return groups


def candidate_groups(
    *,
    f: CandidateFilter,
    history: HistoryState,
    now: datetime | None = None,
    levels: tuple[str, ...] = (),
) -> list[QuerySet]:
    """One grouped, filtered, unordered queryset per rule and level on the page (or per
    rule and each of `levels`, for the planner). With several rules a group can come once
    per matching rule: page_rows(..., dedupe=True) keeps the first rule's row (the page
    itself reads page_parts: one pass per level)."""
    now = now or timezone.now()
    rules = f.active_rules or [None]
    parts, present = [], blocking_levels(history.eligible_server_ids)
    for rank, rule in enumerate(rules):
        rule_sections = list(rule.sections.values_list("pk", flat=True)) if rule else []
        ignored = ignored_user_ids(rule)
        for level in f.levels_for(rule, levels):
            servers, grouped = history.eligible_server_ids, level in _GROUP_BLOCK_KEYS
            items = group_items(level, f, history, rule_sections).filter(
                requester_filter(level, rule, servers, now)
            )
            rows = group_rows(items, level, history, rule, rank, ignored)
            if grouped:
                keys = {f"block_{col}": Max(col) for col in _GROUP_BLOCK_KEYS[level]}
                rows = rows.alias(**keys)
            rows = _apply_rule(rows, f, now, rule, (level, ignored, history))
            # After the rule's thresholds: a row they drop costs no lookup.
            parts.append(rows.filter(_unblocked(level, servers, present, on_groups=grouped)))
    return parts


class PassPart(NamedTuple):
    """One level's groups under several rules (page_parts): a part of the page's UNION
    instead of the querysets of candidate_groups. Its SQL (pass_sql) is built when the
    page knows its order: `keys_only` leaves which rule and its numbers out (rules_match)
    for page_rows to fill in on the page's own rows, except the `sort_column` the page is
    ordered by (plays or assumed_watched)."""

    level: str
    ctx: dict
    keys_only: bool = False
    sort_column: str | None = None


def _fence() -> str:
    """Keeps a subquery from being merged into the query around it (SQLite's flattener,
    PostgreSQL's pull-up), which would copy its expressions, with their subqueries, into
    every outer column that reads them."""
    return " LIMIT -1 OFFSET 0" if connection.vendor == "sqlite" else " OFFSET 0"


def _pass_base(level: str, ctx: dict) -> tuple[str, tuple]:
    """Every group of the level any of the rules can select, with everyone's numbers
    (plays_all, last_all, assumed_all) and, when rules are scoped to libraries, the
    group's section (`sect`: a show's episodes share their section). Protected and
    approved groups are left out here, once for all rules. Compiled once per level and
    page (ctx["bases"]): the page's second read (_numbers_filled, ctx["only"]) selects its
    groups around it, a condition the databases move into the scan of media_items."""
    if level not in ctx["bases"]:
        ctx["bases"][level] = _pass_base_sql(level, ctx)
    sql, params = ctx["bases"][level]
    if ctx.get("only") is None:
        return sql, params
    only = ctx["only"].items()
    where = " OR ".join(
        f"(o.server_id = %s AND o.group_plex_id IN ({', '.join(['%s'] * len(keys))}))"
        for _, keys in only
    )
    more = tuple(v for sid, keys in only for v in (sid, *keys))
    return f"SELECT * FROM ({sql}) o WHERE {where}", (*params, *more)


def _pass_base_sql(level: str, ctx: dict) -> tuple[str, tuple]:
    f, history, scopes = ctx["f"], ctx["history"], list(ctx["scopes"].values())
    union = sorted({s for scope in scopes for s in scope}) if all(scopes) else []
    items = group_items(level, f, history, union)
    grouped, servers = level in _GROUP_BLOCK_KEYS, history.eligible_server_ids
    stats = _stat_columns(level)
    cols = {k: stats[k] for k in ("items", "size", "added", "first_added")}
    cols |= {"last_all": stats["last_watched"], "plays_all": stats["plays"]}
    if any(scopes):
        cols["sect"] = Max("section_id") if grouped else F("section_id")
    if level in (Level.SEASON, Level.EPISODE):  # for people.requester_sql
        cols["show_key"] = Max("grandparent_plex_id") if grouped else F("grandparent_plex_id")
    if any(_stored(level, ctx, n) for n in range(len(ctx["ignored"]))):
        cols |= {"ign_plays": F("ignored_plays"), "ign_others": F("others_last_watched_at")}
    rows = (
        items.order_by()
        .annotate(group_plex_id=F(GROUP_KEY[level]))
        .values("server_id", "group_plex_id")
        .annotate(**cols)
        .annotate(assumed_all=_assumed_watched(history.history_start, "last_all"))
    )
    if grouped:
        rows = rows.alias(**{f"block_{col}": Max(col) for col in _GROUP_BLOCK_KEYS[level]})
    rows = rows.filter(_unblocked(level, servers, ctx["present"], on_groups=grouped))
    rows = rows.filter(_any_rule(level, ctx))
    if f.min_size_gb:
        rows = rows.filter(size__gte=int(f.min_size_gb * GB))
    return rows.query.sql_with_params()


def _their_last(level: str, ctx: dict, n: int) -> tuple[str, list]:
    """A joined row's (`w`) last watch without the n-th set of ignored accounts: everyone
    else's newest watch stored on the row (`to{n}`, where one of them played it), else
    people.their_last_sql."""
    if _stored(level, ctx, n):
        return f"CASE WHEN w.tp{n} IS NULL THEN w.last_all ELSE w.to{n} END", []
    return their_last_sql(level, ctx["ignored"][n], n)


def _stored(level: str, ctx: dict, n: int) -> bool:
    """Whether the n-th set of ignored accounts has its numbers stored on the level's rows
    (media_items.ignored_plays / others_last_watched_at: movies and episodes, for the
    accounts recorded with them)."""
    return level in (Level.EPISODE, Level.MOVIE) and tuple(ctx["ignored"][n]) == ctx["stored"]


def _any_rule(level: str, ctx: dict) -> Q:
    """What every row some rule can select meets, checked while the level is read: added
    before a grace period, and idle by everyone's numbers, or (a rule that ignores users)
    played by those users. A superset of _rule_match, cheap per row, so the rows no rule
    wants (most played episodes) skip the ignored users' join and the rules' conditions."""
    now, servers, terms = ctx["now"], ctx["history"].eligible_server_ids, []
    for rank, rule in enumerate(ctx["rules"]):
        if level not in ctx["f"].levels_for(rule):
            continue
        idle, n = Q(plays_all__lt=rule.max_plays), ctx["set_of"][rank]
        if n is None:
            cutoff = now - timedelta(days=rule.inactivity_days)
            idle &= Q(last_all__isnull=True) | Q(last_all__lt=cutoff)
        elif _stored(level, ctx, n):
            idle |= Q(ign_plays__isnull=False)
        else:
            idle |= touched_q(level, ctx["ignored"][n], servers)
        terms.append(Q(added__lt=now - timedelta(days=rule.grace_days)) & idle)
    return reduce(operator.or_, terms) if terms else Q()


def _rule_match(level: str, rule: DeletionRule, ctx: dict, n: int | None) -> tuple[str, list]:
    """Whether a joined row (`w`) passes `rule`: _apply_rule and requester_filter as one
    condition. `n`: which of the ignored-user joins is this rule's (None: it has none)."""
    now, history, f = ctx["now"], ctx["history"], ctx["f"]
    cutoff = now - timedelta(days=rule.inactivity_days)
    terms, params = (
        ["w.added < %s"],
        [connection.ops.adapt_datetimefield_value(now - timedelta(days=rule.grace_days))],
    )
    if ctx["scopes"][rule.pk]:
        terms.append(f"w.sect IN ({', '.join(str(int(s)) for s in ctx['scopes'][rule.pk])})")
    if n is None:
        terms.append("w.plays_all < %s AND (w.assumed_all IS NULL OR w.assumed_all < %s)")
        params += [rule.max_plays, connection.ops.adapt_datetimefield_value(cutoff)]
    else:
        sql, more = ignore_idle_sql(
            level, ctx["ignored"][n], n, history.eligible_server_ids, max_plays=rule.max_plays,
            cutoff=cutoff, history_start=history.history_start, only=ctx.get("only"),
        )  # fmt: skip
        terms.append(sql)
        params += more
    if rule.needs_requester:
        sql, more = requester_sql(
            level, rule, history.eligible_server_ids, now, items_exact=f.season is None,
            only=ctx.get("only"),
        )  # fmt: skip
        terms.append(sql)
        params += more
    if rule.min_size_gb:
        terms.append("w.size >= %s")
        params.append(int(rule.min_size_gb * GB))
    if f.never_watched:
        last, more = ("w.last_all", []) if n is None else _their_last(level, ctx, n)
        plays = "w.plays_all" if n is None else plays_without_sql(n)
        terms.append(f"({last}) IS NULL AND {plays} = 0")
        params += more
    return " AND ".join(f"({t})" for t in terms), params


def _rule_conditions(level: str, ctx: dict) -> list[tuple[int, DeletionRule, str, list]]:
    """(rank, rule, condition, params) of each rule that can select this level, in the
    page's order (_rule_match)."""
    return [
        (rank, rule, *_rule_match(level, rule, ctx, ctx["set_of"][rank]))
        for rank, rule in enumerate(ctx["rules"])
        if level in ctx["f"].levels_for(rule)
    ]


def _pass_ranks(level: str, ctx: dict) -> tuple[str, list]:
    """`rule_rank`: the first rule (in the page's order) whose condition the row passes,
    NULL when none."""
    whens, params = [], []
    for rank, _, cond, more in _rule_conditions(level, ctx):
        whens.append(f"WHEN {cond} THEN {rank}")
        params += more
    return f"CASE {' '.join(whens) or 'WHEN 1 = 0 THEN 0'} END", params


def _pass_numbers(level: str, ctx: dict) -> tuple[str, list]:
    """The chosen rule's last watch and plays (`w`, ranked): everyone's, or without the
    rule's ignored users."""
    lasts, plays, params = [], [], []
    for rank, n in enumerate(ctx["set_of"]):
        if n is not None:
            sql, more = _their_last(level, ctx, n)
            lasts.append(f"WHEN {rank} THEN {sql}")
            plays.append(f"WHEN {rank} THEN {plays_without_sql(n)}")
            params += more
    if not lasts:
        return "w.last_all AS last_watched, w.plays_all AS plays", []
    return (
        f"CASE w.rule_rank {' '.join(lasts)} ELSE w.last_all END AS last_watched, "
        f"CASE w.rule_rank {' '.join(plays)} ELSE w.plays_all END AS plays",
        params,
    )


def _assumed_sql(
    history: HistoryState, last: str = "o.last_watched", alias: str = "o"
) -> tuple[str, list]:
    """_assumed_watched on a pass's rows (`alias`), after its last watch is known."""
    adapt = connection.ops.adapt_datetimefield_value
    whens, params = [], []
    for sid, start in history.history_start.items():
        whens.append(f"WHEN {alias}.server_id = %s AND {alias}.first_added < %s THEN %s")
        params += [sid, adapt(start), adapt(start)]
    if not whens:
        return last, []
    return f"COALESCE({last}, CASE {' '.join(whens)} END)", params


def _pass_context(f: CandidateFilter, history: HistoryState, now: datetime) -> dict:
    """What every level's pass needs about the rules, read once per page (three queries
    for all rules: their libraries, their ignored accounts, and whose numbers are stored)."""
    rules = f.active_rules
    pks = [r.pk for r in rules]
    scopes: dict[int, list[int]] = {pk: [] for pk in pks}
    through = DeletionRule.sections.through.objects.filter(deletionrule_id__in=pks)
    for rule_id, section_id in through.order_by("librarysection_id").values_list(
        "deletionrule_id", "librarysection_id"
    ):
        scopes[rule_id].append(section_id)
    users: dict[int, set[int]] = {pk: set() for pk in pks}
    people = DeletionRule.ignore_users.through.objects.filter(deletionrule_id__in=pks)
    for rule_id, user_id in people.values_list("deletionrule_id", "tautulliuser__user_id"):
        users[rule_id].add(user_id)
    ignored = [tuple(sorted(users[pk])) for pk in pks]
    sets = list(dict.fromkeys(i for i in ignored if i))
    return {"now": now, "history": history, "f": f, "rules": rules, "scopes": scopes,
            "ignored": [list(s) for s in sets],
            "set_of": [sets.index(i) if i else None for i in ignored],
            "present": blocking_levels(history.eligible_server_ids),
            "stored": ignored_numbers_users(), "bases": {}}  # fmt: skip


def _pass_joined(level: str, ctx: dict) -> tuple[str, list]:
    """_pass_base's rows (`b`) with the ignored users' numbers beside them: their plays
    `tp{n}` and newest watch `tl{n}` per distinct set of them, joined once, or their plays
    and everyone else's newest watch `to{n}` read from media_items' stored columns
    (_stored)."""
    base, params = _pass_base(level, ctx)
    cols, joins, params = "", "", list(params)
    for n, users in enumerate(ctx["ignored"]):
        if _stored(level, ctx, n):  # read on the rows themselves
            cols += f", b.ign_plays AS tp{n}, b.ign_others AS to{n}"
            continue
        sql, more = theirs_sql(level, users, ctx["history"].eligible_server_ids)
        cols += f", c{n}.p AS tp{n}, c{n}.l AS tl{n}"
        joins += (
            f" LEFT JOIN ({sql}) c{n} ON c{n}.server_id = b.server_id AND c{n}.k = b.group_plex_id"
        )
        params += more
    return f"SELECT b.*{cols} FROM ({base}) b{joins}", params


def pass_sql(part: PassPart) -> tuple[str, tuple]:
    """The level's groups under all of the page's rules in one pass: aggregated once
    (_pass_base), each rule a condition on the rows (the first that passes names the
    group, with its own numbers), the ignored users' numbers joined once per distinct
    set of them (_pass_joined). Replaces a UNION of one aggregation per rule and per-row
    subqueries."""
    if part.keys_only:
        return rules_match(part)
    level, ctx = part.level, part.ctx
    joined, params = _pass_joined(level, ctx)
    ranks, rank_params = _pass_ranks(level, ctx)
    ranked = f"SELECT w.*, {ranks} AS rule_rank FROM ({joined}) w{_fence()}"
    numbers, number_params = _pass_numbers(level, ctx)
    rule_ids = " ".join(f"WHEN {rank} THEN {int(r.pk)}" for rank, r in enumerate(ctx["rules"]))
    chosen = (
        f"SELECT w.server_id, w.group_plex_id, w.items, w.size, w.added, w.first_added, "
        f"{numbers}, '{Level(level).value}' AS level, CASE w.rule_rank {rule_ids} END AS rule_id, "
        f"w.rule_rank FROM ({ranked}) w WHERE w.rule_rank IS NOT NULL{_fence()}"
    )
    assumed, assumed_params = _assumed_sql(ctx["history"])
    sql = f"SELECT o.*, {assumed} AS assumed_watched FROM ({chosen}) o"
    return sql, (*assumed_params, *number_params, *rank_params, *params)


def rules_match(part: PassPart) -> tuple[str, tuple]:
    """The groups of a pass some rule selects, in pass_sql's columns, but with which rule
    (`rule_rank`) and the numbers left NULL, except the one the page is ordered by
    (`sort_column`: _sort_value): page_rows fills them in on the page's rows. Any rule will
    do here, so the rules that need no requester lookup are tried first (they decide most
    rows)."""
    level, ctx = part.level, part.ctx
    joined, params = _pass_joined(level, ctx)
    conds, params = [], list(params)
    cheap_first = sorted(_rule_conditions(level, ctx), key=lambda c: c[1].needs_requester)
    for _, _, cond, more in cheap_first:
        conds.append(f"({cond})")
        params += more
    columns = {
        "last_watched": _null("last_all"),
        "plays": _null("plays_all"),
        "assumed_watched": _null("last_all"),
    }
    value_params: list = []
    if part.sort_column:
        columns[part.sort_column], value_params = _sort_value(level, ctx, part.sort_column)
    sql = (
        f"SELECT w.server_id, w.group_plex_id, {_null('items')} AS items, w.size, w.added, "
        f"{_null('first_added')} AS first_added, {columns['last_watched']} AS last_watched, "
        f"{columns['plays']} AS plays, '{Level(level).value}' AS level, {_null('items')} AS "
        f"rule_id, {_null('items')} AS rule_rank, {columns['assumed_watched']} AS "
        f"assumed_watched FROM ({joined}) w WHERE {' OR '.join(conds) or '1 = 0'}"
    )
    return sql, (*value_params, *params)


def _null(column: str) -> str:
    """A NULL of a joined row's column type (PostgreSQL's UNION)."""
    return f"CASE WHEN 1 = 0 THEN w.{column} END"


def _sort_value(level: str, ctx: dict, column: str) -> tuple[str, list]:
    """The page's order column (`plays` or `assumed_watched`) of a rules_match row, as
    pass_sql computes it, in one expression. A group none of the ignored accounts played has
    everyone's numbers under every rule; for the rest the rules' conditions run in the
    page's order (requester lookups included) to find whose numbers count, and the last
    of them need not run: rules_match's rows pass one rule at least. Ranking every row and
    storing its numbers, as pass_sql does, cost more (SQLite, 100k episodes, 46k matched,
    two rules: 96 ms against 62-68)."""
    everyone = "w.plays_all" if column == "plays" else "w.assumed_all"
    touched = " OR ".join(f"w.tp{n} IS NOT NULL" for n in range(len(ctx["ignored"])))
    if not touched:
        return everyone, []
    conditions = _rule_conditions(level, ctx)
    sets = [ctx["set_of"][rank] for rank, *_ in conditions]
    last = len(sets) - 1  # the rules after it all count the same plays: one ELSE for them
    while last > 0 and sets[last - 1] == sets[-1]:
        last -= 1
    whens, params = [f"WHEN NOT ({touched}) THEN {everyone}"], []
    for i, (_, _, cond, more) in enumerate(conditions):
        n, value, value_params = sets[i], everyone, []
        if n is not None and column == "plays":
            value = plays_without_sql(n)
        elif n is not None:
            last_sql, last_params = _their_last(level, ctx, n)
            value, value_params = _assumed_sql(ctx["history"], f"({last_sql})", "w")
            value_params = [*last_params, *value_params]
        if i == last:  # rows rules_match selects pass one of these rules at least
            whens.append(f"ELSE {value}")
            params += value_params
            break
        whens.append(f"WHEN {cond} THEN {value}")
        params += [*more, *value_params]
    return f"CASE {' '.join(whens)} END", params


def page_parts(*, f: CandidateFilter, history: HistoryState, now: datetime | None = None) -> list:
    """The page's parts: one PassPart per level when there are several rules or one
    that knows people; else candidate_groups' querysets (a plain rule: one aggregation)."""
    rules = f.active_rules
    if not rules or (
        len(rules) == 1 and not rules[0].needs_requester and not ignored_user_ids(rules[0])
    ):  # decided before _pass_context: a plain rule's page does not pay its queries
        return candidate_groups(f=f, history=history, now=now)
    ctx = _pass_context(f, history, now or timezone.now())
    return [PassPart(level, ctx) for level in f.levels]


def _aware(value) -> datetime | None:
    """Raw-cursor datetimes: SQLite hands back text for computed columns, PostgreSQL
    aware datetimes; both become aware UTC datetimes."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    parsed = parse_datetime(str(value))
    return parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _to_candidate(row: dict, label: dict) -> Candidate:
    return Candidate(
        level=row["level"],
        server_id=row["server_id"],
        plex_id=row["group_plex_id"],
        title=label.get("title") or "",
        subtitle=label.get("subtitle") or "",
        season_number=label.get("season_number"),
        episode_number=label.get("episode_number"),
        show_plex_id=label.get("show_plex_id"),
        season_plex_id=label.get("season_plex_id"),
        items=row["items"],
        size=int(row["size"] or 0),
        added=_aware(row["added"]),
        last_watched=_aware(row["last_watched"]),
        assumed_watched=_aware(row["assumed_watched"]),
        plays=int(row["plays"] or 0),
        rule_id=row.get("rule_id"),
    )


REF_BATCH = 500  # keys per IN list: far below every database's parameter limit


def ref_batches(refs: list[tuple[str, int, int]]) -> Iterator[tuple[str, Q]]:
    """(level, filter) pairs selecting the groups of `refs`: one `key IN (…)` per level,
    server and batch. One OR term per ref would, past about a thousand refs (an admin
    action across a whole list), build an expression deeper than SQLite allows."""
    keys: dict[tuple[str, int], list[int]] = {}
    for level, sid, key in dict.fromkeys(refs):
        keys.setdefault((level, sid), []).append(key)
    for (level, sid), plex_ids in sorted(keys.items()):
        for start in range(0, len(plex_ids), REF_BATCH):
            batch = plex_ids[start : start + REF_BATCH]
            yield level, Q(server_id=sid, **{f"{GROUP_KEY[level]}__in": batch})


def with_labels(rows: list[dict]) -> list[Candidate]:
    refs = [Ref(r["level"], r["server_id"], r["group_plex_id"]) for r in rows]
    labels = _labels_get(refs) if refs else {}
    return [_to_candidate(r, labels.get(ref, {})) for r, ref in zip(rows, refs, strict=True)]


def _groups_sql(parts: list, dedupe: bool) -> tuple[str, tuple]:
    """The UNION of the parts; with `dedupe`, one row per group: the first matching rule's
    (PassPart rows are one per group already)."""
    if any(isinstance(p, PassPart) for p in parts):
        sqls = [
            pass_sql(p) if isinstance(p, PassPart) else p.query.sql_with_params() for p in parts
        ]
        inner = " UNION ALL ".join(f"SELECT * FROM ({sql}) p{n}" for n, (sql, _) in enumerate(sqls))
        params = tuple(v for _, sql_params in sqls for v in sql_params)
        dedupe = False
    else:
        combined = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
        inner, params = combined.query.sql_with_params()
    if dedupe:
        qn = connection.ops.quote_name
        keys = ", ".join(qn(c) for c in ("level", "server_id", "group_plex_id"))
        inner = (
            f"SELECT * FROM (SELECT u.*, ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY "
            f"u.{qn('rule_rank')}) AS rule_pick FROM ({inner}) u) d WHERE d.rule_pick = 1"
        )
    return inner, params


# Grouped rows (shows, seasons) come from a CTE computed once; ungrouped ones (episodes,
# movies) are read twice, cheaper than storing them (PostgreSQL: 71k episode rows spill the
# stored CTE to disk, while the two reads run as parallel scans); PostgreSQL always stores
# the one-row totals. The page also derives the watched sort key (not repeating the
# last-watched expression, with its subqueries for rules that ignore users, in the
# grouped query).
def candidate_page_sql(
    parts: list[QuerySet], sort: str, limit: int, offset: int, dedupe: bool = False
) -> tuple[str, tuple]:
    """One query for a page and the totals of the whole filter: the page (ORDER BY …
    LIMIT: a top-N sort) beside one COUNT / SUM over the same rows, where a window
    COUNT(*) OVER () sorted every row matched (100k episodes: 130 ms against 53 ms on
    SQLite). Raises EmptyResultSet when the filter can match nothing."""
    inner, params = _groups_sql(parts, dedupe)
    qn = connection.ops.quote_name
    order = [*SORTS.get(sort, SORTS["size"]), "level", "server_id", "group_plex_id"]
    order_sql = ", ".join(  # output column names (watched_sort is computed here)
        f"{qn(col.lstrip('-'))} {'DESC' if col.startswith('-') else 'ASC'}" for col in order
    )
    never = connection.ops.adapt_datetimefield_value(NEVER_WATCHED_SORT)
    shape = _page_shape(parts, dedupe)
    if shape == "sort_keys":
        sql, nevers = _sort_keys_page_sql(inner, order, order_sql)
        return sql, (*[never] * nevers, *params, limit, offset)
    if connection.vendor != "sqlite":
        sql, nevers = _pg_page_sql(inner, shape, order, order_sql)
        return sql, (*params, *[never] * nevers, limit, offset)
    stored_rows = shape == "stored"
    source = "g" if stored_rows else f"({inner}) g"
    page = f"SELECT g.*, {_watched_sort()} FROM {source} ORDER BY {order_sql} LIMIT %s OFFSET %s"
    totals = f"SELECT COUNT(*) AS total_count, SUM(g.{qn('size')}) AS total_bytes FROM {source}"
    sql = (
        f"SELECT p.*, t.total_count, t.total_bytes FROM ({page}) p "
        f"CROSS JOIN ({totals}) t ORDER BY {order_sql}"
    )
    if stored_rows:
        return f"WITH g AS ({inner}) {sql}", (*params, never, limit, offset)
    return sql, (never, *params, limit, offset, *params)


def _watched_sort(alias: str = "g") -> str:
    """The watched sort key ("never watched" sorts as the oldest watch); its parameter is
    NEVER_WATCHED_SORT."""
    qn = connection.ops.quote_name
    return f"COALESCE({alias}.{qn('assumed_watched')}, %s) AS {qn('watched_sort')}"


def _page_shape(parts: list, dedupe: bool) -> str:
    """How the page reads its rows. "keys": one ungrouped part (episodes or movies of a
    plain rule; PostgreSQL sorts keys only and re-reads the page's rows by key).
    "sort_keys": one part of keys and the numbers it is ordered by (rules_match with a
    `sort_column`): _sort_keys_page_sql. "inline":
    one part of keys and sort columns only (rules_match), read twice in place, so the
    page's top-N can walk the live items' size index (media 0005 / 0006) and stop at the
    page's end instead of sorting every match (PostgreSQL, people by episode, 100k
    episodes: 60 -> 37 ms). "stored": grouped rows, a whole pass or several parts,
    computed once (computing them twice costs more than storing them)."""
    if len(parts) != 1:
        return "stored"
    part = parts[0]
    if isinstance(part, PassPart):  # one row per group already (dedupe is for querysets)
        if part.keys_only:
            return "sort_keys" if part.sort_column else "inline"
        return "stored"
    return "stored" if dedupe or part.query.group_by else "keys"


def _sort_keys_page_sql(inner: str, order: list[str], order_sql: str) -> tuple[str, int]:
    """One part's keys, size and order column, stored (their expressions computed once:
    SQLite and PostgreSQL copy a subquery's expression into each place that reads it),
    then sorted and counted; and how many NEVER_WATCHED_SORT parameters come first. The
    page's rows get the rest of their columns from page_rows (_numbers_filled). Storing the
    whole rows cost 35 ms more on SQLite (100k episodes, 46k matched)."""
    qn = connection.ops.quote_name
    keys = ("level", "server_id", "group_plex_id", "size")
    cols = dict.fromkeys([*keys, *(c.lstrip("-") for c in order)])
    picked = ", ".join(_watched_sort("x") if c == "watched_sort" else f"x.{qn(c)}" for c in cols)
    totals = f"SELECT COUNT(*) AS total_count, SUM(g.{qn('size')}) AS total_bytes FROM g"
    sql = (
        f"WITH g AS MATERIALIZED (SELECT {picked} FROM ({inner}) x), t AS MATERIALIZED "
        f"({totals}) SELECT p.*, t.total_count, t.total_bytes FROM (SELECT g.* FROM g "
        f"ORDER BY {order_sql} LIMIT %s OFFSET %s) p CROSS JOIN t ORDER BY {order_sql}"
    )
    return sql, int("watched_sort" in cols)


def _pg_page_sql(inner: str, shape: str, order: list[str], order_sql: str) -> tuple[str, int]:
    """PostgreSQL: the page beside stored totals (a 1-row estimate reran them per page
    row), and how many NEVER_WATCHED_SORT parameters come before its LIMIT / OFFSET."""
    qn = connection.ops.quote_name
    how = "MATERIALIZED" if shape == "stored" else "NOT MATERIALIZED"
    totals = f"SELECT COUNT(*) AS total_count, SUM(g.{qn('size')}) AS total_bytes FROM g"
    page, nevers = (
        f"SELECT g.*, {_watched_sort()} FROM g ORDER BY {order_sql} LIMIT %s OFFSET %s",
        1,
    )
    if shape == "keys":
        page, nevers = _keys_first_page(order, order_sql)
    return (
        f"WITH g AS {how} ({inner}), t AS MATERIALIZED ({totals}) "
        f"SELECT p.*, t.total_count, t.total_bytes FROM ({page}) p CROSS JOIN t "
        f"ORDER BY {order_sql}",
        nevers,
    )


def _keys_first_page(order: list[str], order_sql: str) -> tuple[str, int]:
    """One row per group (a single ungrouped part: episodes or movies): the top-N sort
    keeps only the keys and sort columns, then the page's rows are read again by key
    (unique-index lookups). Sorting whole rows computed every output column of every
    matching row (71k episodes) to keep 50 of them."""
    qn = connection.ops.quote_name
    keys = ("level", "server_id", "group_plex_id")
    cols = dict.fromkeys([*(c.lstrip("-") for c in order), *keys])
    picked = ", ".join(_watched_sort() if c == "watched_sort" else f"g.{qn(c)}" for c in cols)
    join = " AND ".join(f"g.{qn(c)} = k.{qn(c)}" for c in keys)
    return (
        f"SELECT g.*, {_watched_sort()} FROM g JOIN (SELECT {picked} FROM g "
        f"ORDER BY {order_sql} LIMIT %s OFFSET %s) k ON {join}",
        1 + ("watched_sort" in cols),
    )


# Levels of one row per item: narrowing a pass to the page's rows is an index lookup. A
# show or season would be aggregated from its episodes again, and the pass's key lists
# built again, which costs more than the few thousand groups' numbers it saves.
KEYED_LEVELS = (Level.EPISODE, Level.MOVIE)


def page_rows(
    parts: list[QuerySet], sort: str, limit: int, offset: int, dedupe: bool = False
) -> list[dict]:
    """A page of the parts' groups and the totals of all. A pass over episodes or movies
    reads only keys (and, by last watched or plays, the numbers it is ordered by) for the
    totals and the page's order, and which rule and its numbers for the page's own rows
    (100k episodes under two rules: 46k groups matched, 50 shown)."""
    order = SORTS.get(sort, SORTS["size"])[0].lstrip("-")
    column = {"watched_sort": "assumed_watched", "plays": "plays"}.get(order)
    parts = [
        p._replace(keys_only=True, sort_column=column)
        if isinstance(p, PassPart) and p.level in KEYED_LEVELS
        else p
        for p in parts
    ]
    try:
        sql, params = candidate_page_sql(parts, sort, limit, offset, dedupe)
        rows = _dict_rows(sql, params)
        return _numbers_filled(rows, [p for p in parts if isinstance(p, PassPart)])
    except EmptyResultSet:  # e.g. no server with a trustworthy history
        return []


def _dict_rows(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col[0] for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _numbers_filled(rows: list[dict], parts: list[PassPart]) -> list[dict]:
    """The rows of keys_only parts (no `rule_rank`, or none at all: _sort_keys_page_sql)
    with their rule and its numbers: the whole pass again, narrowed to these groups. A
    group a sync changed between the two reads so that no rule selects it any more is left
    out of the page rather than shown with wrong ones."""
    keys: dict[str, dict[int, list[int]]] = {}  # level -> server -> keys ("only" of a pass)
    for r in rows:
        if r.get("rule_rank") is None:
            keys.setdefault(r["level"], {}).setdefault(r["server_id"], []).append(
                r["group_plex_id"]
            )
    if not keys:
        return rows
    narrowed = [
        PassPart(p.level, p.ctx | {"only": keys[p.level]})
        for p in parts
        if p.keys_only and p.level in keys
    ]
    full = {(r["level"], r["server_id"], r["group_plex_id"]): r
            for r in _dict_rows(*_groups_sql(narrowed, False))}  # fmt: skip
    filled = []
    for row in rows:
        ref = (row["level"], row["server_id"], row["group_plex_id"])
        if row.get("rule_rank") is not None:
            filled.append(row)
        elif ref in full:
            filled.append(row | full[ref])
    return filled
