"""Rule conditions about people, in SQL over the per-user rollups of the stored plays.

The Tautulli sync keeps them (syncing.services.tautulli_rollups): one row per user and
movie/episode (tautulli_user_item_stats) and per user and show/season
(tautulli_user_group_stats), so every lookup here reads a few indexed rows per group.

- *ignore users*: a rule's ignored accounts are left out of plays and last watched. Per
  group, only groups those accounts ever played look at the rollups; every other group keeps
  its stored statistics, so the page stays an index scan of media_items.
- *requester watched*: a requested group is held back until whoever requested it (Seerr,
  linked to a Tautulli user) watched it: a play reaching Tautulli's watched threshold for a
  movie or an episode, >= N % of the episodes of a show or season. A requester with no
  Tautulli user, or whose history is off in Tautulli, is *unknown*: never "unwatched", so the
  group is held back. Requests older than the rule's `request_expires_days` no longer count.
  The held-back keys are an uncorrelated `NOT IN (SELECT …)` per server and level.

The candidates page evaluates several rules in one pass per level (deletion.queries.
pass_sql); the `*_sql` functions below are these conditions as SQL on its rows: an
ignored account's numbers joined once per level (theirs_sql), or, on movies and episodes for
the accounts recorded in media_items.ignored_* (syncing.services.ignored_numbers, kept in
step with the rules by ignored_numbers_sync), read from the rows themselves; the requester
condition per show or season from the group's own episode count, per episode from two short
key lists.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime, timedelta
from functools import reduce

from django.db import connection
from django.db.models import (
    Case,
    DateTimeField,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from deletion.groups import Ref, server_keys_q
from deletion.models import DeletionRule, Level
from media.models import MediaItem
from syncing.models import SeerrRequest, TautulliUser, UserGroupStats, UserItemStats
from syncing.services.ignored_numbers import ignored_numbers_record, last_without_sql

_ITEMS = MediaItem._meta.db_table
_STATS = UserItemStats._meta.db_table
_GROUPS = UserGroupStats._meta.db_table
_GROUP_LEVELS = (Level.SHOW, Level.SEASON)  # read from tautulli_user_group_stats
_REQS = SeerrRequest._meta.db_table
_USERS = TautulliUser._meta.db_table
_LONG_AGO = datetime(1900, 1, 1, tzinfo=UTC)  # "they never watched it" in a comparison


def ignored_user_ids(rule: DeletionRule | None) -> list[int]:
    if rule is None or rule.pk is None:
        return []
    return sorted(set(rule.ignore_users.values_list("user_id", flat=True)))


def ignored_numbers_sync() -> bool:
    """Keep media_items' stored numbers of ignored accounts (syncing.services.
    ignored_numbers) on the accounts the enabled rules ignore, all of them together: a rule
    ignoring exactly those reads columns on the page, any other joins the rollup."""
    through = DeletionRule.ignore_users.through.objects.filter(deletionrule__enabled=True)
    return ignored_numbers_record(list(through.values_list("tautulliuser__user_id", flat=True)))


def _aggregate(qs, column: str, function: str, default=None):
    """A correlated one-value aggregate without GROUP BY (`SELECT COALESCE(SUM(x), d) FROM …`).

    The COALESCE stays inside the subquery: wrapped outside, Django would put the whole
    expression in the GROUP BY of a grouped query and run it once per episode row."""
    value = Func(F(column), function=function)
    if default is not None:
        value = Coalesce(value, Value(default))
    return Subquery(qs.order_by().annotate(v=value).values("v")[:1])


def _rollup(level: str, server_id, key):
    """Per-user rows of one group: the show / season rollup, or the item rollup for an
    episode or movie (both have `plays` and `last_watched_at`)."""
    if level in _GROUP_LEVELS:
        return UserGroupStats.objects.filter(server_id=server_id, level=level, group_plex_id=key)
    return UserItemStats.objects.filter(server_id=server_id, plex_id=key)


def _group_rows(level: str, ignored: list[int], theirs: bool):
    """The rollup rows of the outer group (server_id, group_plex_id): the ignored users' own
    (`theirs`) or everybody else's."""
    rows = _rollup(level, OuterRef("server_id"), OuterRef("group_plex_id"))
    return rows.filter(user_id__in=ignored) if theirs else rows.exclude(user_id__in=ignored)


def _their_plays(level: str, ignored: list[int]):
    return _aggregate(_group_rows(level, ignored, True), "plays", "SUM", 0)


def ignore_corrections(level: str, ignored: list[int]) -> dict:
    """A group's plays and last watched, shown on the page, without the plays of `ignored`
    user ids. Reads the aliases `plays_all` / `last_all` (everyone's numbers): their plays
    are subtracted, and only when one of them watched last is the newest watch by anyone
    else looked up (newest first on an index: a step or two). These are computed for the
    rows that pass the rule; whether a group passes is decided by `ignore_idle` below."""
    their_last = _aggregate(_group_rows(level, ignored, True), "last_watched_at", "MAX", _LONG_AGO)
    others_last = Subquery(
        _group_rows(level, ignored, False)
        .order_by("-last_watched_at")
        .values("last_watched_at")[:1]
    )
    return {
        "last_watched": Case(
            When(last_all__gt=their_last, then=F("last_all")),
            default=others_last,
            output_field=DateTimeField(),
        ),
        "plays": F("plays_all") - _their_plays(level, ignored),
    }


def ignore_idle(
    level: str, ignored: list[int], server_ids, *, max_plays: int, cutoff, history_start: dict
) -> Q:
    """Idle for a rule that ignores users, without computing anyone's last watch per group:
    no play since `cutoff` by anyone else (one uncorrelated list of recently watched group
    keys per server, from the rollup's last-watched index), and fewer than `max_plays` plays
    once theirs are subtracted (looked up only for groups over the limit by everyone's
    count). A group added before a history that starts after `cutoff` stays unknown."""
    if level in _GROUP_LEVELS:
        recent, col = UserGroupStats.objects.filter(level=level), "group_plex_id"
    else:
        recent, col = UserItemStats.objects.all(), "plex_id"
    recent = recent.filter(last_watched_at__gte=cutoff).exclude(user_id__in=ignored)
    per_server = []
    for sid in sorted(server_ids):
        q = Q(server_id=sid) & ~Q(group_plex_id__in=recent.filter(server_id=sid).values(col))
        start = history_start.get(sid)
        if start is not None and start >= cutoff:
            q &= Q(first_all__gte=start)
        per_server.append(q)
    plays_ok = Q(plays_all__lt=max_plays) | Q(plays__lt=max_plays)  # `plays`: theirs left out
    return reduce(operator.or_, per_server, Q(pk__in=[])) & plays_ok


# Held-back group keys per level. %(live)s is the live-requests predicate on r.
_UNKNOWN = "(u.id IS NULL OR u.keep_history = %s)"
_WATCHED_ONE = (
    f"EXISTS (SELECT 1 FROM {_STATS} s WHERE s.server_id = {{t}}.server_id "
    f"AND s.plex_id = {{t}}.plex_id AND s.user_id = u.user_id AND s.watched = %s)"
)
_EPISODES = (
    f"FROM {_ITEMS} e WHERE e.server_id = r.server_id AND e.{{col}} = {{key}} "
    "AND e.type = 'episode' AND e.removed_at IS NULL"
)
_WATCHED_EPISODES = (  # the requester's episodes past the watched threshold (group rollup)
    f"SELECT COALESCE(SUM(g.watched_items), 0) FROM {_GROUPS} g WHERE g.server_id = r.server_id "
    "AND g.level = '{level}' AND g.group_plex_id = {key} AND g.user_id = u.user_id"
)
_FROM = f"FROM {_REQS} r LEFT JOIN {_USERS} u ON u.id = r.tautulli_user_id"


def _live(server_id: int | None, media_type: str, since: datetime | None) -> tuple[str, list]:
    """The live requests (alias `r`) of a media type newer than `since`, on one server
    (None: the caller matches the server itself)."""
    sql = "r.plex_id IS NOT NULL AND r.media_type = %s AND r.status <> 3"
    params: list = [media_type]
    if server_id is not None:
        sql, params = f"r.server_id = %s AND {sql}", [server_id, *params]
    if since is not None:
        sql += " AND r.requested_at >= %s"
        params.append(connection.ops.adapt_datetimefield_value(since))
    return sql, params


def _share_below(level: str, key: str) -> str:
    """Requester's watched episodes under `key` below N % of the live ones (2 params: N,
    N). Counting the episodes costs a scan of them per request; when the requester watched
    none (most requests), one live episode decides it."""
    watched = _WATCHED_EPISODES.format(level=str(level), key=key)
    episodes = _EPISODES.format(col=GROUP_COLUMN[level], key=key)
    return (
        f"CASE WHEN ({watched}) = 0 THEN %s > 0 AND EXISTS (SELECT 1 {episodes}) "
        f"ELSE 100 * ({watched}) < %s * (SELECT COUNT(*) {episodes}) END"
    )


def _narrowed(column: str, keys: list[int] | None) -> str:
    """` AND column IN (keys)` when a pass is narrowed to a page's groups (`keys`: their
    keys on one server; queries._numbers_filled), so its key lists hold those alone."""
    if keys is None:
        return ""
    return f" AND {column} IN ({', '.join(str(int(k)) for k in keys) or 'NULL'})"


def _held_back_sql(
    level: str, server_id: int, rule: DeletionRule, since, keys: list[int] | None = None
) -> tuple[str, list]:
    """The keys of a server's groups of `level` a requester holds back under `rule`
    (`keys`: among these movies alone)."""
    n = rule.requester_watched_percent
    if level == Level.MOVIE:
        live, params = _live(server_id, "movie", since)
        sql = (
            f"SELECT r.plex_id {_FROM} WHERE {live}{_narrowed('r.plex_id', keys)} AND ({_UNKNOWN} "
            f"OR NOT {_WATCHED_ONE.format(t='r')})"
        )
        return sql, [*params, False, True]
    live, params = _live(server_id, "tv", since)
    if level == Level.SHOW:
        sql = f"SELECT r.plex_id {_FROM} WHERE {live} AND ({_UNKNOWN} OR {_share_below(Level.SHOW, 'r.plex_id')})"
        return sql, [*params, False, n, n]
    if level == Level.SEASON:
        sql = (
            f"SELECT se.plex_id {_FROM} JOIN {_ITEMS} se ON se.server_id = r.server_id "
            f"AND se.parent_plex_id = r.plex_id AND se.type = 'season' WHERE {live} "
            f"AND ({_UNKNOWN} OR {_share_below(Level.SEASON, 'se.plex_id')})"
        )
        return sql, [*params, False, n, n]
    sql = (
        f"SELECT e.plex_id {_FROM} JOIN {_ITEMS} e ON e.server_id = r.server_id "
        f"AND e.grandparent_plex_id = r.plex_id AND e.type = 'episode' WHERE {live} "
        f"AND ({_UNKNOWN} OR NOT {_WATCHED_ONE.format(t='e')})"
    )
    return sql, [*params, False, True]


GROUP_COLUMN = {
    Level.SHOW: "grandparent_plex_id",
    Level.SEASON: "parent_plex_id",
    Level.EPISODE: "plex_id",
    Level.MOVIE: "plex_id",
}


def requester_filter(level: str, rule: DeletionRule | None, server_ids, now: datetime) -> Q:
    """Items whose group no requester holds back under `rule` (Q() when the rule does not ask)."""
    if rule is None or not rule.needs_requester:
        return Q()
    since = now - timedelta(days=rule.request_expires_days) if rule.request_expires_days else None
    per_server = []
    for sid in sorted(server_ids):
        sql, params = _held_back_sql(level, sid, rule, since)
        per_server.append(
            Q(server_id=sid) & ~Q(**{f"{GROUP_COLUMN[level]}__in": RawSQL(sql, params)})
        )
    return reduce(operator.or_, per_server, Q(pk__in=[]))


def held_back_refs(refs: list[Ref], rule: DeletionRule | None, now: datetime) -> set[Ref]:
    """Which of these groups the requester condition of `rule` holds back (bulk, per level)."""
    if rule is None or not rule.needs_requester or not refs:
        return set()
    since = now - timedelta(days=rule.request_expires_days) if rule.request_expires_days else None
    found = set()
    with connection.cursor() as cursor:
        for level, sid in sorted({(lv, s) for lv, s, _ in refs}):
            sql, params = _held_back_sql(level, sid, rule, since)
            cursor.execute(sql, params)
            keys = {key for (key,) in cursor.fetchall()}
            found |= {r for r in refs if r[0] == level and r[1] == sid and r[2] in keys}
    return found


def unknown_requesters(rules: list[DeletionRule]) -> list[str]:
    """Why some requested groups are never candidates: requesters whose watching is unknown
    (one DISTINCT query, whatever the number of requests)."""
    if not any(r.needs_requester for r in rules):
        return []
    reqs = SeerrRequest.objects.filter(plex_id__isnull=False).exclude(status=3).order_by()
    unknown = reqs.filter(Q(tautulli_user__isnull=True) | Q(tautulli_user__keep_history=False))
    lines = set()
    for linked, friendly, username, plex, name, email in unknown.values_list(
        "tautulli_user_id", "tautulli_user__friendly_name", "tautulli_user__username",
        "requester_plex_username", "requester_username", "requester_email",
    ).distinct():  # fmt: skip
        if linked is not None:
            lines.add(
                f"{friendly or username} (history off): history is switched off in Tautulli, "
                "so whether they watched what they requested is unknown; their requests stay "
                "protected"
            )
        else:
            lines.add(
                f"{plex or name or email or 'unknown'}: no matching Tautulli user (by Plex "
                "username or e-mail), so whether they watched what they requested is unknown; "
                "their requests stay protected"
            )
    return sorted(lines)


def _names(user_ids: set[int]) -> dict[int, str]:
    users = TautulliUser.objects.filter(user_id__in=sorted(user_ids)).order_by("-is_active", "pk")
    found: dict[int, str] = {}
    for user_id, friendly_name, username in users.values_list(
        "user_id", "friendly_name", "username"
    ):
        found.setdefault(user_id, friendly_name or username)
    return found


_REQUEST_FIELDS = (  # what people_get shows of a request: its requester's names
    "server", "plex_id", "requester_plex_username", "requester_username", "requester_email",
    "tautulli_user__user_id", "tautulli_user__username", "tautulli_user__friendly_name",
    "tautulli_user__keep_history",
)  # fmt: skip


def _watched_rows(level: str):
    """The rollup that says who watched a group of this level, and its key column."""
    if level in _GROUP_LEVELS:
        return "group_plex_id", UserGroupStats.objects.filter(level=level, watched_items__gt=0)
    return "plex_id", UserItemStats.objects.filter(watched=True)


def people_get(candidates: list) -> dict[Ref, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per candidate ref: (who requested it, who watched it). One query for the requests,
    one per level for the watchers, one for the names."""
    show_of = {
        c.ref: (c.server_id, c.plex_id if c.level in (Level.SHOW, Level.MOVIE) else c.show_plex_id)
        for c in candidates
    }
    wanted = {k for k in show_of.values() if k[1] is not None}
    requests: dict[tuple[int, int], list[SeerrRequest]] = {}
    if wanted:
        q = server_keys_q(wanted, "plex_id")
        for r in (
            SeerrRequest.objects.filter(q)
            .select_related("tautulli_user")
            .only(*_REQUEST_FIELDS)
            .order_by("requested_at")
        ):
            requests.setdefault((r.server_id, r.plex_id), []).append(r)
    watchers: dict[Ref, set[int]] = {}
    for level in {c.level for c in candidates}:
        mine = [c for c in candidates if c.level == level]
        col, rows = _watched_rows(level)
        q = server_keys_q(((c.server_id, c.plex_id) for c in mine), col)
        rows = rows.filter(q).values_list("server_id", col, "user_id").distinct()
        for sid, key, user_id in rows:
            watchers.setdefault(Ref(level, sid, key), set()).add(user_id)
    names = _names({u for ids in watchers.values() for u in ids})
    out = {}
    for c in candidates:
        asked = requests.get(show_of[c.ref], [])
        who = tuple(
            dict.fromkeys(
                str(r.tautulli_user) if r.tautulli_user else r.requester_name for r in asked
            )
        )
        seen = tuple(sorted(names.get(u, f"user {u}") for u in watchers.get(c.ref, ())))
        out[c.ref] = (who, seen)
    return out


# --- one pass over a level for several rules (deletion.queries.pass_sql) ----------------
# The page aggregates a level once; each rule is a condition over those rows (`b`, with
# everyone's numbers as plays_all / last_all / first_added) and its ignored users'
# numbers joined beside them (theirs_sql; their_last_sql reads them on `w`).


def _db_time(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _their_rows(level: str, ignored: list[int]) -> tuple[QuerySet, str]:
    """The ignored users' own rollup rows of the level, and the column holding the group
    key: shows and seasons from the group rollup, episodes and movies from the item rollup
    (a movie's rows have no show above them; read from uis_user_show_idx2 alone)."""
    if level in _GROUP_LEVELS:
        rows, col = UserGroupStats.objects.filter(level=level), "group_plex_id"
    else:
        rows = UserItemStats.objects.filter(grandparent_plex_id__isnull=level == Level.MOVIE)
        col = "plex_id"
    # One user: `=` (SQLite walks the index in key order; `IN (x)` sorted the rows).
    users = Q(user_id=ignored[0]) if len(ignored) == 1 else Q(user_id__in=ignored)
    return rows.filter(users), col


def theirs_sql(level: str, ignored: list[int], server_ids) -> tuple[str, list]:
    """The ignored users' plays (p) and newest watch (l) per group key (k): one uncorrelated
    aggregate over their own rollup rows, LEFT JOINed to the level's groups. Sparse (only
    what they ever played), where subqueries per group ran once per row (100k episodes)."""
    rows, col = _their_rows(level, ignored)
    qs = (
        rows.filter(server_id__in=sorted(server_ids))
        .order_by()
        .values("server_id", k=F(col))
        .annotate(p=Sum("plays"), l=Max("last_watched_at"))
    )
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


def touched_q(level: str, ignored: list[int], server_ids) -> Q:
    """Groups (`group_plex_id`) any of `ignored` ever played, per server: the only rows
    whose numbers their plays change (one uncorrelated key list per server)."""
    rows, col = _their_rows(level, ignored)
    rows = rows.order_by()
    per_server = [
        Q(server_id=sid, group_plex_id__in=rows.filter(server_id=sid).values(col))
        for sid in sorted(server_ids)
    ]
    return reduce(operator.or_, per_server, Q(server_id__in=[]))


def plays_without_sql(n: int) -> str:
    """A joined row's (`w`) plays without the n-th set of ignored accounts (theirs: `tp{n}`)."""
    return f"w.plays_all - COALESCE(w.tp{n}, 0)"


def their_last_sql(level: str, ignored: list[int], n: int) -> tuple[str, list]:
    """A group's last watch without the ignored users (`w.tl{n}` / `w.tp{n}`: theirs).
    Only where one of them watched last is anyone else's newest watch looked up; on an
    episode or movie not even then when nobody else has a play (their plays are all of the
    item's: its rollup rows add up to at most its play count), the common case of an
    account playing things nobody else watches."""
    marks = ", ".join(["%s"] * len(ignored))
    plays = None
    if level in _GROUP_LEVELS:
        others = (
            f"SELECT MAX(o.last_watched_at) FROM {_GROUPS} o WHERE o.server_id = w.server_id "
            f"AND o.level = '{Level(level).value}' AND o.group_plex_id = w.group_plex_id "
            f"AND o.user_id NOT IN ({marks})"
        )
    else:
        others = (
            f"SELECT MAX(o.last_watched_at) FROM {_STATS} o WHERE o.server_id = w.server_id "
            f"AND o.plex_id = w.group_plex_id AND o.user_id NOT IN ({marks})"
        )
        plays = (("w.plays_all", []), (f"w.tp{n}", []))
    return last_without_sql(
        last=("w.last_all", []),
        their_last=(f"w.tl{n}", []),
        others=(f"({others})", ignored),
        plays=plays,
    )


def _not_recent_sql(
    level: str, ignored: list[int], sid: int, cutoff, keys: list[int] | None = None
) -> tuple[str, list]:
    """No play since `cutoff` by anyone but `ignored` on the group (`w`) of server `sid`.
    Shows, seasons, episodes: one uncorrelated key list per server. An episode or movie
    nobody watched since `cutoff` needs no lookup: its last watch is the newest of its
    rollup rows (a show's may not be: its rollup has removed episodes). Movies: the few
    recently watched ones look their own rows up, cheaper than listing every item's."""
    marks = ", ".join(["%s"] * len(ignored))
    if level == Level.MOVIE:
        sql = (
            f"w.last_all IS NULL OR w.last_all < %s OR NOT EXISTS (SELECT 1 FROM {_STATS} o "
            "WHERE o.server_id = w.server_id AND o.plex_id = w.group_plex_id "
            f"AND o.last_watched_at >= %s AND o.user_id NOT IN ({marks}))"
        )
        return sql, [_db_time(cutoff), _db_time(cutoff), *ignored]
    if level in _GROUP_LEVELS:
        recent, col = UserGroupStats.objects.filter(level=level), "group_plex_id"
    else:
        recent, col = UserItemStats.objects.all(), "plex_id"
    recent = recent.filter(server_id=sid, last_watched_at__gte=cutoff).exclude(user_id__in=ignored)
    if keys is not None:
        recent = recent.filter(**{f"{col}__in": keys})
    sub, sub_params = recent.order_by().values(col).query.sql_with_params()
    if level in _GROUP_LEVELS:
        return f"w.group_plex_id NOT IN ({sub})", list(sub_params)
    sql = f"w.last_all IS NULL OR w.last_all < %s OR w.group_plex_id NOT IN ({sub})"
    return sql, [_db_time(cutoff), *sub_params]


def ignore_idle_sql(
    level: str, ignored: list[int], n: int, server_ids, *, max_plays: int, cutoff,
    history_start, only: dict[int, list[int]] | None = None,
) -> tuple[str, list]:  # fmt: skip
    """ignore_idle on the joined rows (`w`): no play since `cutoff` by anyone else,
    fewer than `max_plays` plays once theirs (`tp{n}`) are left out, and unknown before a
    history that starts after `cutoff`. `only`: the keys per server of a narrowed pass."""
    terms, params = [], []
    for sid in sorted(server_ids):
        keys = None if only is None else only.get(sid, [])
        sql, more = _not_recent_sql(level, ignored, sid, cutoff, keys)
        term, params = f"w.server_id = %s AND ({sql})", [*params, sid, *more]
        start = history_start.get(sid)
        if start is not None and start >= cutoff:
            term += " AND w.first_added >= %s"
            params.append(_db_time(start))
        terms.append(f"({term})")
    plays = f"(w.plays_all < %s OR {plays_without_sql(n)} < %s)"
    return f"({' OR '.join(terms) or '1 = 0'}) AND {plays}", [*params, max_plays, max_plays]


# Episodes every live request on their show has seen watched by its (known) requester.
# Each show's number of live requests is a window count over the one read of them (a
# count per episode and show re-read the requests 6k times: 21 ms against 12 on PostgreSQL).
_FULLY_WATCHED = (
    "SELECT s.plex_id FROM (SELECT r.id, r.server_id, r.plex_id, u.user_id, u.keep_history, "
    f"COUNT(*) OVER (PARTITION BY r.plex_id) AS n {_FROM} WHERE {{live}}{{narrow}}) q "
    f"JOIN {_STATS} s ON s.user_id = q.user_id AND s.server_id = q.server_id "
    "AND s.grandparent_plex_id = q.plex_id AND s.watched = %s WHERE q.keep_history = %s "
    "GROUP BY s.plex_id, q.plex_id HAVING COUNT(DISTINCT q.id) = MAX(q.n)"
)


def _episodes_free_sql(
    sid: int, since: datetime | None, keys: list[int] | None = None
) -> tuple[str, list]:
    """The episodes of a server no requester holds back (`w`, with its show's key): under
    no live request, or watched by every live request's requester. Two short key lists
    (requested shows; requesters' watched episodes, read by user and show from the
    rollup) where listing the held-back episodes probed every requested show's episodes."""
    live, params = _live(sid, "tv", since)
    narrow = ""
    if keys is not None:  # the requests on the shows of these episodes alone
        episodes = _narrowed("e.plex_id", keys)
        narrow = (
            f" AND r.plex_id IN (SELECT e.grandparent_plex_id FROM {_ITEMS} e "
            f"WHERE e.server_id = {int(sid)}{episodes})"
        )
    watched = _FULLY_WATCHED.format(live=live, narrow=narrow)
    sql = (
        f"w.server_id = %s AND (w.show_key IS NULL OR w.show_key NOT IN "
        f"(SELECT r.plex_id FROM {_REQS} r WHERE {live}) OR w.group_plex_id IN ({watched}))"
    )
    return sql, [sid, *params, *params, True, True]


def _groups_free_sql(level: str, rule: DeletionRule, since: datetime | None) -> tuple[str, list]:
    """A show or season (`w`) no live request on its show holds back, read per group:
    the group's own episode count (`w.items`, its live episodes) replaces counting them
    again per request and season, which cost more than aggregating the whole level."""
    show_key = "w.group_plex_id" if level == Level.SHOW else "w.show_key"
    live, params = _live(None, "tv", since)
    watched = _WATCHED_EPISODES.format(level=Level(level).value, key="w.group_plex_id")
    sql = (
        f"NOT EXISTS (SELECT 1 {_FROM} WHERE r.server_id = w.server_id AND r.plex_id = "
        f"{show_key} AND {live} AND ({_UNKNOWN} OR 100 * ({watched}) < %s * w.items))"
    )
    return sql, [*params, False, rule.requester_watched_percent]


def requester_sql(
    level: str, rule: DeletionRule, server_ids, now: datetime, *, items_exact: bool = True,
    only: dict[int, list[int]] | None = None,
) -> tuple[str, list]:  # fmt: skip
    """requester_filter on a level's groups (`w`): per show or season a lookup of its
    requests (`items_exact`: `w.items` counts all of its live episodes, no filter cut
    into it); else the held-back keys of each server, looked up once per group instead
    of once per episode row (`only`: of these keys per server alone)."""
    since = now - timedelta(days=rule.request_expires_days) if rule.request_expires_days else None
    if level in _GROUP_LEVELS and items_exact:
        return _groups_free_sql(level, rule, since)
    terms, params = [], []
    for sid in sorted(server_ids):
        keys = None if only is None else only.get(sid, [])
        if level == Level.EPISODE:
            sql, sql_params = _episodes_free_sql(sid, since, keys)
            terms.append(f"({sql})")
            params += sql_params
            continue
        sql, sql_params = _held_back_sql(level, sid, rule, since, keys)
        terms.append(f"(w.server_id = %s AND w.group_plex_id NOT IN ({sql}))")
        params += [sid, *sql_params]
    return f"({' OR '.join(terms) or '1 = 0'})", params
