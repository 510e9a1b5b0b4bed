"""post_migrate hooks: `migrate` keeps env connections (and, later, schedules) current."""

from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    if app_config is None or app_config.label != "syncing":
        return
    from syncing.services.connections import connections_sync_from_env

    connections_sync_from_env()
