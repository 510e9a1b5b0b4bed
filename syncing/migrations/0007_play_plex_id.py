"""One name for the Plex key: the plays' `rating_key` columns become `plex_id` (issue 10)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("syncing", "0006_rollup_indexes")]

    operations = [
        migrations.RemoveIndex(model_name="play", name="play_rating_key_idx"),
        migrations.RenameField(model_name="play", old_name="rating_key", new_name="plex_id"),
        migrations.RenameField(
            model_name="play", old_name="parent_rating_key", new_name="parent_plex_id"
        ),
        migrations.RenameField(
            model_name="play", old_name="grandparent_rating_key", new_name="grandparent_plex_id"
        ),
        migrations.AddIndex(
            model_name="play",
            index=models.Index(fields=["tautulli", "plex_id"], name="play_plex_id_idx"),
        ),
    ]
