"""`migrate` and every worker start keep the env connections (and the schedule) current;
`run_finished` lets apps that syncing must not import act after each run."""

from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import Signal, receiver
from django_q.signals import post_spawn

# Sent by syncing.runs after every run ends, with `run` (a finished SyncRun, success or
# failed). The dashboard takes its storage snapshot here.
run_finished = Signal()


@receiver(post_migrate)
def after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    if app_config is None or app_config.label != "syncing":
        return
    from syncing.services.connections import connections_sync_from_env
    from syncing.services.schedules import schedules_ensure

    connections_sync_from_env()
    schedules_ensure()


@receiver(post_spawn)
def worker_started(sender, proc_name: str = "", **kwargs) -> None:
    """Each django-q2 worker applies the connections from the environment as it starts."""
    from syncing.services.connections import connections_apply_on_start

    connections_apply_on_start()
