"""Per-user rollups of the stored plays, read by the rules that know people.

- tautulli_user_item_stats: one row per user and movie/episode (plays, watch time, last
  watched, whether a play reached Tautulli's watched threshold), from tautulli_plays;
- tautulli_user_group_stats: one row per user and show / season (plays, last watched, how
  many of its episodes the user watched), from the item rollup, so the candidates page reads
  one row per user and group instead of every episode's.

Both are rebuilt in SQL from the stored rows, never by adding deltas, so re-read plays can
never double count: in full after a full import, else only for the (user, item) pairs the
run's plays touched and the (user, show/season) pairs above them. They run inside the
Tautulli sync's statistics transaction: a failed or partial sync leaves them as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction

from media.models import PlexServer
from syncing.clients.tautulli import HistoryRow
from syncing.models import Play, TautulliServer, UserGroupStats, UserItemStats
from syncing.services.tautulli_plays import referenced_rows_held
from syncing.services.tautulli_stats import _chunks, _marks

_ITEMS, _GROUPS = UserItemStats._meta.db_table, UserGroupStats._meta.db_table
_PLAYS = Play._meta.db_table
_ITEM_SELECT = f"""
INSERT INTO {_ITEMS} (tautulli_id, server_id, user_id, plex_id, parent_plex_id,
                      grandparent_plex_id, plays, watch_seconds, last_watched_at, watched)
SELECT p.tautulli_id, %s, p.user_id, p.plex_id, MAX(p.parent_plex_id),
       MAX(p.grandparent_plex_id), COUNT(DISTINCT COALESCE(p.reference_id, p.row_id)),
       COALESCE(SUM(p.play_duration), 0), MAX(p.started),
       MAX(CASE WHEN p.watched_status >= 1 THEN 1 ELSE 0 END) = 1
FROM {_PLAYS} p {{hint}}
WHERE p.tautulli_id = %s {{where}}
GROUP BY p.tautulli_id, p.user_id, p.plex_id
"""
# {hint}: a full rebuild on SQLite reads the plays NOT INDEXED: through the (item, user)
# index it fetched every play's row at random (1M plays: 4.3 s of CPU); a table scan and one
# sort take 2.9 s, and write the rollup in its key order (its show/season passes: 1.4 → 0.6 s).
# {col}: grandparent_plex_id (shows) or parent_plex_id (seasons) of the item rollup.
# {where} never says `key IS NOT NULL` beside `key IN (…)`: SQLite then walked the index
# range "key > NULL" (every play) instead of looking the listed keys up.
_GROUP_SELECT = f"""
INSERT INTO {_GROUPS} (tautulli_id, server_id, level, group_plex_id, user_id, plays,
                       last_watched_at, watched_items)
SELECT s.tautulli_id, s.server_id, %s, s.{{col}}, s.user_id, SUM(s.plays), MAX(s.last_watched_at),
       SUM(CASE WHEN s.watched THEN 1 ELSE 0 END)
FROM {_ITEMS} s
WHERE s.server_id = %s AND s.tautulli_id = %s {{where}}
GROUP BY s.tautulli_id, s.server_id, s.user_id, s.{{col}}
"""
LEVEL_COLUMN = {UserGroupStats.Level.SHOW: "grandparent_plex_id", UserGroupStats.Level.SEASON: "parent_plex_id"}  # fmt: skip


@dataclass
class Touched:
    """The (user, key) pairs a run's plays touched: items, and the seasons and shows above."""

    items: set[tuple[int, int]] = field(default_factory=set)
    groups: dict[str, set[tuple[int, int]]] = field(
        default_factory=lambda: {level: set() for level in LEVEL_COLUMN}
    )

    def add(self, rows: Iterable[HistoryRow]) -> None:
        for row in rows:
            if row.user_id is None or row.plex_id is None:
                continue
            self.items.add((row.user_id, row.plex_id))
            self._add_groups(row.user_id, row.parent_plex_id, row.grandparent_plex_id)

    def _add_groups(self, user_id: int, season: int | None, show: int | None) -> None:
        if season is not None:
            self.groups[UserGroupStats.Level.SEASON].add((user_id, season))
        if show is not None:
            self.groups[UserGroupStats.Level.SHOW].add((user_id, show))


def _per_user(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, list[int]]]:
    """(user, chunk of keys) for each user, so every statement walks one user's index range."""
    keys: dict[int, list[int]] = {}
    for user_id, key in pairs:
        keys.setdefault(user_id, []).append(key)
    return [(u, chunk) for u, ks in sorted(keys.items()) for chunk in _chunks(sorted(ks))]


@transaction.atomic
def rollups_rebuild(*, tautulli: TautulliServer) -> None:
    """Everything from the stored plays (a full import): one grouped pass per table."""
    sid = tautulli.plex_server_id
    with connection.cursor() as cursor:
        _references_held(cursor, tautulli)
        cursor.execute(f"DELETE FROM {_GROUPS} WHERE tautulli_id = %s", [tautulli.pk])
        with _secondary_indexes_dropped(cursor, UserItemStats):
            cursor.execute(f"DELETE FROM {_ITEMS} WHERE tautulli_id = %s", [tautulli.pk])
            where = "AND p.user_id IS NOT NULL AND p.plex_id IS NOT NULL"
            hint = "NOT INDEXED" if connection.vendor == "sqlite" else ""
            cursor.execute(_ITEM_SELECT.format(hint=hint, where=where), [sid, tautulli.pk])
        for level, col in LEVEL_COLUMN.items():
            where = f"AND s.{col} IS NOT NULL"
            cursor.execute(_GROUP_SELECT.format(col=col, where=where), [level, sid, tautulli.pk])


def rollups_refresh(*, tautulli: TautulliServer, touched: Touched) -> None:
    """Only the touched (user, item) pairs, then the (user, show/season) pairs above them
    (before and after: an item that moved refreshes its old group too)."""
    sid, tid = tautulli.plex_server_id, tautulli.pk
    with connection.cursor() as cursor:
        _references_held(cursor, tautulli)
        for user_id, keys in _per_user(touched.items):
            where, params = f"AND plex_id IN ({_marks(keys)})", [tid, user_id, *keys]
            cursor.execute(
                f"SELECT parent_plex_id, grandparent_plex_id FROM {_ITEMS} "
                f"WHERE tautulli_id = %s AND user_id = %s {where}",
                params,
            )
            for season, show in cursor.fetchall():
                touched._add_groups(user_id, season, show)
            cursor.execute(f"DELETE FROM {_ITEMS} WHERE tautulli_id = %s AND user_id = %s {where}", params)  # fmt: skip
            cursor.execute(
                _ITEM_SELECT.format(
                    hint="", where=f"AND p.user_id = %s AND p.plex_id IN ({_marks(keys)})"
                ),
                [sid, tid, user_id, *keys],
            )
        for level, pairs in touched.groups.items():
            _groups_refresh(cursor, tautulli, level, pairs)


def _references_held(cursor, tautulli: TautulliServer) -> None:
    """The rollups' foreign keys, checked once per run instead of per row (NO_FK_CHECK)."""
    referenced_rows_held(
        cursor, (TautulliServer, tautulli.pk), (PlexServer, tautulli.plex_server_id)
    )


def _groups_refresh(cursor, tautulli: TautulliServer, level: str, pairs: set) -> None:
    col = LEVEL_COLUMN[level]
    for user_id, keys in _per_user(pairs):
        marks = _marks(keys)
        cursor.execute(
            f"DELETE FROM {_GROUPS} WHERE tautulli_id = %s AND level = %s AND user_id = %s "
            f"AND group_plex_id IN ({marks})",
            [tautulli.pk, level, user_id, *keys],
        )
        cursor.execute(
            _GROUP_SELECT.format(col=col, where=f"AND s.user_id = %s AND s.{col} IN ({marks})"),
            [level, tautulli.plex_server_id, tautulli.pk, user_id, *keys],
        )


class _secondary_indexes_dropped:
    """SQLite: drop a table's plain indexes around a bulk rewrite and build them once after
    (sorting each index once is cheaper than a random insert into it per row: 9.4 s of CPU
    → 6.2 s for 437k rollup rows). Same transaction, so a failure restores them. PostgreSQL
    keeps them: there DROP INDEX would lock the table against the pages until commit."""

    def __init__(self, cursor, model) -> None:
        self.cursor, self.model = cursor, model
        self.active = connection.vendor == "sqlite"

    def __enter__(self) -> None:
        if self.active:
            for index in self.model._meta.indexes:
                self.cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(index.name)}")

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.active and exc_type is None:
            editor = connection.schema_editor()
            for index in self.model._meta.indexes:
                self.cursor.execute(str(index.create_sql(self.model, editor)))
