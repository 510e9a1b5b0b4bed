"""Tautulli's users and the per-user rollup of plays (tautulli_user_item_stats).

Both are refreshed inside every Tautulli history sync, in the same transaction as the item
statistics: a failed sync leaves them as they were. The rollup is rebuilt in SQL from the
stored plays (whole table for a full run, the touched rating keys for an incremental one),
never by adding deltas, so re-read rows can never double count.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import connection

from syncing.clients.tautulli import UserRow
from syncing.models import Play, TautulliServer, TautulliUser, UserItemStats
from syncing.services.tautulli_stats import _chunks, _marks
from syncing.services.upserts import row_stage

_FIELDS = ["username", "friendly_name", "email", "keep_history", "is_active"]
_ROLLUP, _PLAYS = UserItemStats._meta.db_table, Play._meta.db_table
_REBUILD = f"""
INSERT INTO {_ROLLUP} (tautulli_id, server_id, user_id, plex_id, parent_plex_id,
                       grandparent_plex_id, plays, watch_seconds, last_watched_at, watched)
SELECT p.tautulli_id, %s, p.user_id, p.plex_id, MAX(p.parent_plex_id),
       MAX(p.grandparent_plex_id), COUNT(DISTINCT COALESCE(p.reference_id, p.row_id)),
       COALESCE(SUM(p.play_duration), 0), MAX(p.started),
       MAX(CASE WHEN p.watched_status >= 1 THEN 1 ELSE 0 END) = 1
FROM {_PLAYS} p
WHERE p.tautulli_id = %s AND p.user_id IS NOT NULL AND p.plex_id IS NOT NULL {{where}}
GROUP BY p.tautulli_id, p.user_id, p.plex_id
"""


def tautulli_users_store(*, tautulli: TautulliServer, rows: list[UserRow]) -> int:
    """Create or update every user Tautulli listed; users it no longer lists become inactive
    (kept, so rules naming them keep working). Returns how many rows changed."""
    existing = {u.user_id: u for u in TautulliUser.objects.filter(tautulli=tautulli)}
    new, changed = [], []
    for row in rows:
        values = {name: getattr(row, name) for name in _FIELDS}
        values["username"], values["friendly_name"] = row.username[:200], row.friendly_name[:200]
        values["email"] = row.email[:300]
        make = partial(TautulliUser, tautulli=tautulli, user_id=row.user_id)
        row_stage(
            existing=existing, key=row.user_id, values=values, make=make, new=new, changed=changed
        )
    for gone in existing.values():
        if gone.is_active:
            gone.is_active = False
            changed.append(gone)
    TautulliUser.objects.bulk_create(new)
    TautulliUser.objects.bulk_update(changed, _FIELDS)
    return len(new) + len(changed)


def user_item_stats_rebuild(
    *, tautulli: TautulliServer, plex_ids: Iterable[int] | None = None
) -> None:
    """Rebuild the rollup of the server (plex_ids=None) or of the given items only."""
    ids = [tautulli.plex_server_id, tautulli.pk]
    with connection.cursor() as cursor:
        if plex_ids is None:
            cursor.execute(f"DELETE FROM {_ROLLUP} WHERE tautulli_id = %s", [tautulli.pk])
            cursor.execute(_REBUILD.format(where=""), ids)
            return
        for chunk in _chunks(sorted(set(plex_ids))):
            marks = _marks(chunk)
            cursor.execute(
                f"DELETE FROM {_ROLLUP} WHERE tautulli_id = %s AND plex_id IN ({marks})",
                [tautulli.pk, *chunk],
            )
            cursor.execute(_REBUILD.format(where=f"AND p.plex_id IN ({marks})"), ids + chunk)
