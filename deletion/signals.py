"""post_migrate hook: `migrate` keeps the daily execution schedule in line with the setting."""

from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    if app_config is None or app_config.label != "deletion":
        return
    from deletion.schedules import execution_schedule_ensure

    execution_schedule_ensure()
