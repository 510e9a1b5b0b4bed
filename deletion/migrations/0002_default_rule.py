"""Creates the default rule once (the original example's values); re-running adds nothing."""

from django.db import migrations

DEFAULT_RULE = "Default: idle 15 days, added 30+ days ago, < 2 plays"


def create_default_rule(apps, schema_editor):
    DeletionRule = apps.get_model("deletion", "DeletionRule")
    DeletionRule.objects.get_or_create(
        name=DEFAULT_RULE,
        defaults={
            "enabled": True,
            "include_movies": True,
            "include_tv": True,
            "grace_days": 30,
            "inactivity_days": 15,
            "max_plays": 2,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("deletion", "0001_initial")]

    operations = [migrations.RunPython(create_default_rule, migrations.RunPython.noop)]
