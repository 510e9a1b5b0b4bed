"""Per-item watch statistics recomputed in SQL from the stored plays (tautulli_plays).

For each movie/episode in scope, from the WHOLE play table (never by adding deltas, so
re-reading rows can never double count):
  total_play_count          COUNT(DISTINCT reference_id): a resumed session is one play
  total_watch_time_seconds  SUM(play_duration): Tautulli already excludes pauses
  last_watched_at           MAX(started), by any user
A play belongs to the item whose plex_id is its plex_id. A play whose rating key matches
no current item ("orphan") also counts for the current item with the same GUID: the title
came back under a new rating key. Removed items keep the plays of their own rating key.

The plays by key are read through the per-user rollup (tautulli_rollups), which the sync
refreshes first from the same plays: its rows per item add up to the figures above. Then,
per chunk of items, only for the few that need it: plays without a user (not in the
rollup), and plays by GUID for the items orphan plays point to (an OR of key and GUID in
one subquery made PostgreSQL scan the play table).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import connection
from django.db.models import Q

from media.models import MediaItem
from media.statistics import tables_analyze
from syncing.models import Play, UserItemStats

CHUNK = 500  # ids per IN list: far below every backend's parameter limit

_ITEMS, _PLAYS = MediaItem._meta.db_table, Play._meta.db_table
_ROLLUP = UserItemStats._meta.db_table
_ORPHAN = (
    f"NOT EXISTS (SELECT 1 FROM {_ITEMS} a WHERE a.server_id = %s "
    "AND a.plex_id = p.plex_id AND a.removed_at IS NULL)"
)
_BY_GUID = f"FROM {_PLAYS} p WHERE p.tautulli_id = %s AND p.guid = {_ITEMS}.guid AND {_ORPHAN}"
# One row-valued subquery per item (SQLite >= 3.15 and PostgreSQL): a lone MAX(started) let
# SQLite walk the whole started index instead of the item's few plays.
# Plays by key come from the per-user rollup (tautulli_rollups, refreshed first): ~20 rows
# per item instead of ~50 plays, and the same numbers (a resumed session never changes user,
# so its distinct sessions add up across users). Plays without a user, absent from the
# rollup, are added from the plays for the few items that have any. `+s.tautulli_id`: no
# index on that alone (SQLite preferred it to the item's index and read every row).
_SET_BY_KEY = f"""
UPDATE {_ITEMS} SET (total_play_count, total_watch_time_seconds, last_watched_at) = (
  SELECT COALESCE(SUM(s.plays), 0), COALESCE(SUM(s.watch_seconds), 0), MAX(s.last_watched_at)
  FROM {_ROLLUP} s WHERE s.server_id = {_ITEMS}.server_id AND s.plex_id = {_ITEMS}.plex_id
  AND +s.tautulli_id = %s)
WHERE id IN ({{ids}})
"""
_NO_USER = f"FROM {_PLAYS} p WHERE p.tautulli_id = %s AND p.plex_id = {_ITEMS}.plex_id AND p.user_id IS NULL"
_NO_USER_KEYS = f"SELECT DISTINCT p.plex_id FROM {_PLAYS} p WHERE p.tautulli_id = %s AND p.user_id IS NULL AND p.plex_id IN ({{keys}})"
_ADD = f"""
UPDATE {_ITEMS} SET (total_play_count, total_watch_time_seconds, last_watched_at) = (
  SELECT {_ITEMS}.total_play_count + COUNT(DISTINCT COALESCE(p.reference_id, p.row_id)),
         {_ITEMS}.total_watch_time_seconds + COALESCE(SUM(p.play_duration), 0),
         CASE WHEN {_ITEMS}.last_watched_at IS NULL OR MAX(p.started) > {_ITEMS}.last_watched_at
              THEN COALESCE(MAX(p.started), {_ITEMS}.last_watched_at)
              ELSE {_ITEMS}.last_watched_at END
  {{source}})
WHERE id IN ({{ids}})
"""
_ORPHAN_GUIDS = f"SELECT DISTINCT p.guid FROM {_PLAYS} p WHERE p.tautulli_id = %s AND {{where}}"


def _chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


def _marks(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def _orphan_guids(cursor, *, tautulli_id: int, server_id: int, guids: list[str] | None) -> set:
    """GUIDs of plays whose rating key is no current item (among `guids`, or all)."""
    if guids is None:
        where, params = f"p.guid <> '' AND {_ORPHAN}", [tautulli_id, server_id]
    else:
        where, params = (
            f"p.guid IN ({_marks(guids)}) AND {_ORPHAN}",
            [tautulli_id, *guids, server_id],
        )
    cursor.execute(_ORPHAN_GUIDS.format(where=where), params)
    return {guid for (guid,) in cursor.fetchall()}


def _chunk_recompute(
    cursor, *, tautulli_id: int, server_id: int, items: list[tuple], orphan: set | None
) -> None:
    ids = [pk for pk, _key, _guid, _removed in items]
    cursor.execute(_SET_BY_KEY.format(ids=_marks(ids)), [tautulli_id, *ids])
    keys = [key for _pk, key, _guid, _removed in items]
    cursor.execute(_NO_USER_KEYS.format(keys=_marks(keys)), [tautulli_id, *keys])
    if no_user := {key for (key,) in cursor.fetchall()}:
        targets = [pk for pk, key, _guid, _removed in items if key in no_user]
        cursor.execute(_ADD.format(source=_NO_USER, ids=_marks(targets)), [tautulli_id, *targets])
    guids = sorted({guid for _pk, _key, guid, removed in items if guid and removed is None})
    if not guids:
        return
    if orphan is None:
        orphan = _orphan_guids(cursor, tautulli_id=tautulli_id, server_id=server_id, guids=guids)
    targets = [pk for pk, _key, guid, removed in items if guid in orphan and removed is None]
    if targets:
        params = [tautulli_id, server_id, *targets]
        cursor.execute(_ADD.format(source=_BY_GUID, ids=_marks(targets)), params)


_STATS = ("total_play_count", "total_watch_time_seconds", "last_watched_at")


def item_stats_recompute(*, tautulli_id: int, server_id: int, scope: Q | None = None) -> int:
    """Recompute the server's movies/episodes matching `scope` (None: all); returns how
    many changed (an incremental sync re-reads the day before its newest play: those items
    are recomputed every time, but not "updated" unless a play changed them).

    Items with no plays get 0 / 0 / NULL.
    """
    items = MediaItem.objects.filter(server_id=server_id, type__in=["movie", "episode"])
    if scope is not None:
        items = items.filter(scope)
    rows = list(items.order_by("pk").values_list("pk", "plex_id", "guid", "removed_at", *_STATS))
    ids, changed = {"tautulli_id": tautulli_id, "server_id": server_id}, 0
    with connection.cursor() as cursor:
        # Everything: one pass over the plays finds every orphan GUID; a scope: per chunk.
        orphan = _orphan_guids(cursor, **ids, guids=None) if scope is None else None
        for chunk in _chunks(rows):
            _chunk_recompute(cursor, **ids, items=[row[:4] for row in chunk], orphan=orphan)
            before = {row[0]: row[4:] for row in chunk}
            after = MediaItem.objects.filter(pk__in=list(before)).values_list("pk", *_STATS)
            changed += sum(1 for pk, *stats in after if tuple(stats) != before[pk])
    return changed


def play_tables_analyze() -> None:
    """Refresh the planner's statistics of the plays and items after a bulk import.

    Autovacuum lags behind a million fresh rows; with its stale estimates PostgreSQL made
    the orphan check a nested loop over every item for every play (14 s per chunk instead
    of 30 ms). SQLite has none until analyzed (media.statistics).
    """
    tables_analyze(Play, MediaItem)


def item_stats_scope(*, plex_ids: Iterable[int], guids: Iterable[str]) -> Q:
    """Items touched by plays with these keys / orphan GUIDs, plus items never computed.

    Items whose `tautulli_synced_at` is NULL arrived since the last sync (perhaps a known
    title back under a new rating key), so their history is looked up too.
    """
    scope = Q(tautulli_synced_at__isnull=True)
    for chunk in _chunks(plex_ids):
        scope |= Q(plex_id__in=chunk)
    for chunk in _chunks(g for g in guids if g):
        scope |= Q(guid__in=chunk)
    return scope
