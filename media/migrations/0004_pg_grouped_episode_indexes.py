"""PostgreSQL only: live episodes in season and show order, with the numbers the
candidates pages aggregate, so a season or show page reads its groups already grouped
(GroupAggregate over an index-only scan) instead of hashing 100k episode rows.

cand_season_idx / cand_show_idx cannot do that on PostgreSQL: `removed_at IS NULL` sits
in their key before the group columns, and the planner does not take IS NULL as a fixed
value, so their order is not the groups' order. SQLite does not use a partial index for
a condition on a bound parameter (`type = ?`), so it would only pay for writing these:
they are left out there. 100k episodes, PostgreSQL, SQL of the page: plain rule by season
44 -> 30 ms, by show 38 -> 26 ms; two rules that know people by season 69 -> 55 ms.
"""

from django.db import migrations

LIVE_EPISODES = "WHERE type = 'episode' AND removed_at IS NULL"
NUMBERS = "added_at, last_watched_at, total_play_count, file_size_bytes"
INDEXES = {
    "ep_season_grouped_idx": f"server_id, parent_plex_id, {NUMBERS}, grandparent_plex_id",
    "ep_show_grouped_idx": f"server_id, grandparent_plex_id, {NUMBERS}",
}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON media_items ({columns}) {LIVE_EPISODES}"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("media", "0003_ignored_numbers")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
