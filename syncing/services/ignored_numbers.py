"""media_items.ignored_plays / others_last_watched_at: per movie and episode the
accounts the enabled rules ignore played, their plays and the newest watch by anyone else
(as deletion.people.their_last_sql works it out), from the per-user rollup.

The candidates page reads them as columns (deletion.queries.pass_sql) where joining those
accounts' rollup rows to every episode, and looking up everyone else's newest watch where
one of them watched last, cost most of the page. Which accounts they count is recorded
beside them (system_config `ignored_numbers_users`, Tautulli user ids), written with them
in one transaction: the page uses the columns only for a rule ignoring exactly those
accounts, and joins the rollup otherwise, so a stale record can only cost speed.

Kept by the Tautulli syncs (the items whose statistics they recompute, after those
statistics: the newest watch by anyone else starts from the item's own) and, when the
enabled rules' ignored accounts change, for every item (deletion.people.ignored_numbers_sync).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import DateTimeField, Q
from django.db.models.expressions import RawSQL

from media.locks import media_items_write_lock
from media.models import MediaItem, PlexServer
from media.services import config_get, config_set
from syncing.models import UserItemStats

USERS_KEY = "ignored_numbers_users"
_STATS = UserItemStats._meta.db_table
_ITEMS = MediaItem._meta.db_table


def ignored_numbers_users() -> tuple[int, ...] | None:
    """The Tautulli user ids the columns count (None: never computed)."""
    value = config_get(USERS_KEY)
    return tuple(sorted(int(u) for u in value)) if isinstance(value, list) else None


def _rollup_sql(
    function: str, column: str, users: tuple[int, ...], movie: bool, *, theirs: bool
) -> tuple[str, list]:
    """Their (or everyone else's) rollup rows of the item being updated (an episode's have a
    show above them, as deletion.people.theirs_sql reads them)."""
    marks = ", ".join(["%s"] * len(users))
    show = "IS NULL" if movie else "IS NOT NULL"
    negate = "" if theirs else "NOT "
    return (
        f"(SELECT {function}(s.{column}) FROM {_STATS} s WHERE s.server_id = {_ITEMS}.server_id "
        f"AND s.plex_id = {_ITEMS}.plex_id AND s.user_id {negate}IN ({marks}) "
        f"AND s.grandparent_plex_id {show})",
        list(users),
    )


SQL = tuple[str, list]  # an SQL expression and its parameters


def last_without_sql(
    *, last: SQL, their_last: SQL, others: SQL, plays: tuple[SQL, SQL] | None
) -> SQL:
    """The newest watch without some accounts, from everyone's (`last`) and theirs: everyone's
    where none of them watched last; NULL where their plays are all of an item's (`plays`:
    its count and theirs; None for a show or season, whose rollup may hold removed
    episodes); else `others`, everyone else's newest (a lookup). One definition for the
    stored column and the page (deletion.people.their_last_sql)."""
    (lsql, lp), (tsql, tp), (osql, op) = last, their_last, others
    sql, params = f"CASE WHEN {tsql} IS NULL OR {lsql} > {tsql} THEN {lsql} ", [*tp, *lp, *tp, *lp]
    if plays is not None:
        (psql, pp), (theirs, theirs_p) = plays
        sql += f"WHEN {psql} <= {theirs} THEN NULL "
        params += [*pp, *theirs_p]
    return f"{sql}ELSE {osql} END", [*params, *op]


def _numbers(users: tuple[int, ...], movie: bool) -> dict[str, RawSQL]:
    """Their plays, and everyone else's newest watch (last_without_sql) where they played."""
    plays = _rollup_sql("SUM", "plays", users, movie, theirs=True)
    last, last_params = last_without_sql(
        last=(f"{_ITEMS}.last_watched_at", []),
        their_last=_rollup_sql("MAX", "last_watched_at", users, movie, theirs=True),
        others=_rollup_sql("MAX", "last_watched_at", users, movie, theirs=False),
        plays=((f"{_ITEMS}.total_play_count", []), plays),
    )
    return {
        "ignored_plays": RawSQL(*plays),
        "others_last_watched_at": RawSQL(
            f"CASE WHEN {plays[0]} IS NULL THEN NULL ELSE {last} END",
            [*plays[1], *last_params],
            output_field=DateTimeField(),
        ),
    }


def ignored_numbers_refresh(*, server_id: int | None = None, scope: Q | None = None) -> int:
    """Recompute the columns of the movies and episodes (of a server, matching `scope`;
    None: all) for the recorded accounts. Rows none of them played and holding nothing
    are left unwritten. Returns how many rows were written."""
    users = ignored_numbers_users() or ()
    items = MediaItem.objects.filter(
        type__in=[MediaItem.MediaType.MOVIE, MediaItem.MediaType.EPISODE]
    )
    if server_id is not None:
        items = items.filter(server_id=server_id)
    if scope is not None:
        items = items.filter(scope)
    held = Q(ignored_plays__isnull=False) | Q(others_last_watched_at__isnull=False)
    if not users:
        return items.filter(held).update(ignored_plays=None, others_last_watched_at=None)
    played = UserItemStats.objects.filter(user_id__in=users).values("plex_id")
    written = 0
    for kind, movie in ((MediaItem.MediaType.MOVIE, True), (MediaItem.MediaType.EPISODE, False)):
        written += items.filter(held | Q(plex_id__in=played), type=kind).update(
            **_numbers(users, movie)
        )
    return written


@transaction.atomic
def ignored_numbers_record(users: list[int]) -> bool:
    """Count these accounts from now on: record them and recompute every item, unless they
    are the ones recorded already. Returns whether anything was recomputed."""
    wanted = tuple(sorted(set(users)))
    if ignored_numbers_users() == wanted:
        return False
    config_set(USERS_KEY, list(wanted))
    for server_id in PlexServer.objects.order_by("pk").values_list("pk", flat=True):
        media_items_write_lock(server_id=server_id)  # as every bulk writer: no deadlock
        ignored_numbers_refresh(server_id=server_id)
    return True
