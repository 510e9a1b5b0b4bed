"""Per-item watch statistics recomputed in SQL from the stored plays (tautulli_plays).

For each movie/episode of the Plex server, from the WHOLE play table (never by adding deltas,
so re-reading rows can never double count):
  total_play_count          COUNT(DISTINCT reference_id): a resumed session is one play
  total_watch_time_seconds  SUM(play_duration): pauses are already excluded by Tautulli
  last_watched_at           MAX(started), by any user
A play belongs to the item whose plex_id is its rating_key; a play whose rating key matches no
current item belongs to the current item with the same GUID (the item came back under a new
rating key). Removed items keep the plays of their own rating key.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from django.db import connection

from media.models import MediaItem
from syncing.models import Play

CHUNK = 500  # values per IN list: far below every backend's parameter limit

_ITEMS, _PLAYS = MediaItem._meta.db_table, Play._meta.db_table
_BY_KEY = "p.tautulli_id = %s AND p.rating_key = {items}.plex_id"
_BY_GUID = (
    "p.tautulli_id = %s AND {items}.guid <> '' AND p.guid = {items}.guid AND NOT EXISTS ("
    "SELECT 1 FROM {items} a WHERE a.server_id = {items}.server_id "
    "AND a.plex_id = p.rating_key AND a.removed_at IS NULL)"
)
_UPDATE = """
UPDATE {items} SET
  total_play_count = COALESCE((
    SELECT COUNT(DISTINCT COALESCE(p.reference_id, p.row_id)) FROM {plays} p WHERE {match}), 0),
  total_watch_time_seconds = COALESCE((
    SELECT SUM(p.play_duration) FROM {plays} p WHERE {match}), 0),
  last_watched_at = (SELECT MAX(p.started) FROM {plays} p WHERE {match})
WHERE server_id = %s AND type IN ('movie', 'episode') AND {scope}
"""


def _statement(*, active: bool, scope: str) -> str:
    match = f"(({_BY_KEY}) OR ({_BY_GUID}))" if active else _BY_KEY
    state = "removed_at IS NULL" if active else "removed_at IS NOT NULL"
    sql = _UPDATE.format(
        items="{items}", plays="{plays}", match=match, scope=f"{state} AND {scope}"
    )
    return sql.format(items=_ITEMS, plays=_PLAYS)


def _run(*, tautulli_id: int, server_id: int, scope: str, scope_params: list) -> int:
    updated = 0
    with connection.cursor() as cursor:
        for active in (True, False):
            per_match = 2 if active else 1
            params = [tautulli_id] * (3 * per_match) + [server_id, *scope_params]
            cursor.execute(_statement(active=active, scope=scope), params)
            updated += max(cursor.rowcount, 0)
    return updated


def _chunks(values: Iterable, size: int = CHUNK) -> Iterable[list]:
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


def item_stats_rebuild(*, tautulli_id: int, server_id: int) -> int:
    """Recompute every movie/episode of the server (no plays → 0 / None); returns the count."""
    return _run(tautulli_id=tautulli_id, server_id=server_id, scope="1 = 1", scope_params=[])


def item_stats_refresh(
    *, tautulli_id: int, server_id: int, rating_keys: Iterable[int], guids: Iterable[str]
) -> int:
    """Recompute the items touched by these plays, plus items never computed before.

    Items whose `tautulli_synced_at` is NULL arrived since the last sync (perhaps a known
    title back under a new rating key), so their history is looked up too.
    """
    updated = _run(
        tautulli_id=tautulli_id,
        server_id=server_id,
        scope="tautulli_synced_at IS NULL",
        scope_params=[],
    )
    for column, values in (("plex_id", rating_keys), ("guid", (g for g in guids if g))):
        for chunk in _chunks(values):
            marks = ", ".join(["%s"] * len(chunk))
            scope = f"tautulli_synced_at IS NOT NULL AND {column} IN ({marks})"
            updated += _run(
                tautulli_id=tautulli_id, server_id=server_id, scope=scope, scope_params=chunk
            )
    return updated
