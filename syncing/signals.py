"""post_migrate hooks: `migrate` keeps the env connections and the sync schedule current."""

from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    if app_config is None or app_config.label != "syncing":
        return
    from syncing.services.connections import connections_sync_from_env
    from syncing.services.schedules import schedules_ensure

    connections_sync_from_env()
    schedules_ensure()
