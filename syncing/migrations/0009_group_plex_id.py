"""One name for the Plex key: the per-user group rollup's `group_key` becomes
`group_plex_id` (its indexes and constraint are dropped around the rename and rebuilt)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("media", "0002_candidate_indexes"),
        ("syncing", "0008_people_rollups"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='usergroupstats',
            name='uniq_user_group_stats',
        ),
        migrations.RemoveIndex(
            model_name='usergroupstats',
            name='ugs_group_idx',
        ),
        migrations.RemoveIndex(
            model_name='usergroupstats',
            name='ugs_recent_idx',
        ),
        migrations.RenameField(
            model_name="usergroupstats", old_name="group_key", new_name="group_plex_id"
        ),
        migrations.AddIndex(
            model_name='usergroupstats',
            index=models.Index(fields=['server', 'level', 'group_plex_id', 'last_watched_at', 'user_id', 'plays', 'watched_items'], name='ugs_group_idx'),
        ),
        migrations.AddIndex(
            model_name='usergroupstats',
            index=models.Index(fields=['server', 'level', 'last_watched_at', 'user_id', 'group_plex_id'], name='ugs_recent_idx'),
        ),
        migrations.AddConstraint(
            model_name='usergroupstats',
            constraint=models.UniqueConstraint(fields=('tautulli', 'level', 'user_id', 'group_plex_id'), name='uniq_user_group_stats'),
        ),
    ]
