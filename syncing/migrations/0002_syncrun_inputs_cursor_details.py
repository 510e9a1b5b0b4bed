from django.db import migrations, models


def options_split(apps, schema_editor):
    """The old `options` mixed a run's inputs with the next run's cursor: split them."""
    SyncRun = apps.get_model("syncing", "SyncRun")
    for run in SyncRun.objects.exclude(inputs={}).iterator():
        old = dict(run.inputs)
        run.cursor = {k: old.pop(k) for k in ("newest_started",) if k in old}
        run.details = {k: old.pop(k) for k in ("since", "seconds") if k in old}
        run.inputs = {k: v for k, v in old.items() if k in ("full", "days_back")}
        run.save(update_fields=["inputs", "cursor", "details"])


class Migration(migrations.Migration):
    dependencies = [("syncing", "0001_initial")]

    operations = [
        migrations.RenameField("syncrun", "options", "inputs"),
        migrations.AlterField(
            model_name="syncrun",
            name="inputs",
            field=models.JSONField(
                blank=True, default=dict, help_text="What this run was asked to do"
            ),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="cursor",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Where the next run of this kind and target starts",
            ),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="details",
            field=models.JSONField(
                blank=True, default=dict, help_text="Timings, unmatched items, …"
            ),
        ),
        migrations.AlterField(
            model_name="syncrun",
            name="kind",
            field=models.CharField(
                choices=[
                    ("plex", "Plex library"),
                    ("tautulli", "Tautulli history"),
                    ("tautulli_item", "Tautulli item"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(options_split, migrations.RunPython.noop),
    ]
