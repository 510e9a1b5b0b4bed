"""The optional daily execution of due deletions, declared in code like the sync schedule.

Off by default: the schedule exists only while the `execute_daily` setting is on, and
`migrate` (plus every change of the setting) makes the table agree with the setting.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from deletion.config import DeletionSettings, deletion_settings_get

EXECUTE_SCHEDULE = "SmartPlex: execute due deletions"
EXECUTE_FUNC = "deletion.tasks.deletion_execute_due_task"


def execution_schedule_ensure(*, settings: DeletionSettings | None = None) -> Schedule | None:
    """Create/update the daily schedule when on, remove it when off; never duplicates."""
    settings = settings or deletion_settings_get()
    existing = Schedule.objects.filter(name=EXECUTE_SCHEDULE).order_by("pk")
    if not settings.execute_daily:
        existing.delete()
        return None
    schedule = existing.first()
    if schedule is None:
        schedule = Schedule(name=EXECUTE_SCHEDULE, next_run=timezone.now() + timedelta(days=1))
    Schedule.objects.filter(name=EXECUTE_SCHEDULE).exclude(pk=schedule.pk).delete()
    schedule.func = EXECUTE_FUNC
    schedule.kwargs = "trigger='schedule'"
    schedule.schedule_type = Schedule.DAILY
    schedule.repeats = -1
    schedule.save()
    return schedule
