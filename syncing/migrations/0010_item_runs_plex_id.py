"""Queued item runs keep working across the rename of 0007 (issue 10).

A `tautulli_item` run queued before 0007 holds `inputs = {"rating_key": …}`, but its work
function (and its lock detail, `syncing.kinds`) now read `plex_id`: without this rewrite the
run would fail with a KeyError once the worker picks it up after the upgrade. Finished runs
are history and keep what they were asked; only queued and running ones are rewritten.
"""

from django.db import migrations

ACTIVE = ("queued", "running")


def _rename_input(apps, old: str, new: str) -> None:
    """Move `old` to `new` in the inputs of every unfinished item run (a handful at most)."""
    SyncRun = apps.get_model("syncing", "SyncRun")
    runs = list(
        SyncRun.objects.filter(kind="tautulli_item", status__in=ACTIVE, inputs__has_key=old)
    )
    for run in runs:
        inputs = dict(run.inputs)
        inputs[new] = inputs.pop(old)
        run.inputs = inputs
    SyncRun.objects.bulk_update(runs, ["inputs"])


def forwards(apps, schema_editor) -> None:
    _rename_input(apps, "rating_key", "plex_id")


def backwards(apps, schema_editor) -> None:
    _rename_input(apps, "plex_id", "rating_key")


class Migration(migrations.Migration):
    dependencies = [("syncing", "0009_group_plex_id")]

    operations = [migrations.RunPython(forwards, backwards)]
