"""media_items.ignored_last_watched_at (the ignored accounts' newest watch) becomes
others_last_watched_at (the newest watch by everyone else), which the candidates page
otherwise looked up per row when one of them watched last. The stored values are of the
old meaning until recomputed: the record of whose numbers they are is dropped, so the page
joins the rollup until the next sync or rule change recomputes them
(deletion.people.ignored_numbers_sync)."""

from django.db import migrations, models

USERS_KEY = "ignored_numbers_users"  # syncing.services.ignored_numbers.USERS_KEY


def _record_drop(apps, schema_editor):
    apps.get_model("media", "SystemConfig").objects.filter(key=USERS_KEY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("media", "0006_sqlite_live_size_index"),
    ]

    operations = [
        migrations.RunPython(_record_drop, _record_drop),
        migrations.RemoveIndex(
            model_name="mediaitem",
            name="cand_item_idx",
        ),
        migrations.RenameField(
            model_name="mediaitem",
            old_name="ignored_last_watched_at",
            new_name="others_last_watched_at",
        ),
        migrations.AddIndex(
            model_name="mediaitem",
            index=models.Index(
                fields=[
                    "type",
                    "removed_at",
                    "server",
                    "added_at",
                    "last_watched_at",
                    "total_play_count",
                    "file_size_bytes",
                    "plex_id",
                    "parent_plex_id",
                    "grandparent_plex_id",
                    "ignored_plays",
                    "others_last_watched_at",
                ],
                name="cand_item_idx",
            ),  # fmt: skip
        ),
    ]
