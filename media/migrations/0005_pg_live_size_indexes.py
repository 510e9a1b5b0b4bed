"""PostgreSQL only: live episodes and live movies in the candidates pages' default order
(biggest first, then server and key), so a page of one of those levels walks the index
and stops at its 50th match instead of sorting every matching row (people rules by
episode at 100k episodes, 46k matches: the page's top-N 39 -> 2 ms; the totals still read
every row once). Keys only: the walk reads a few hundred rows from the table, and every
extra column would be one more to write on each sync. SQLite does not use a partial index
for a condition on a bound parameter (`type = ?`): left out there, as in media 0004.
"""

from django.db import migrations

SIZE_ORDER = "(COALESCE(file_size_bytes, 0)) DESC, server_id, plex_id"
INDEXES = {"ep_live_size_idx": "episode", "movie_live_size_idx": "movie"}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, media_type in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON media_items ({SIZE_ORDER}) "
            f"WHERE type = '{media_type}' AND removed_at IS NULL"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("media", "0004_pg_grouped_episode_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
