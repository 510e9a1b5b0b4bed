"""The periodic schedules, declared in code and kept current on every migrate.

`sync_all` every SYNC_INTERVAL_HOURS (the full syncs, which also mark what left Plex) and
the light Plex sync every PLEX_CHANGES_MINUTES (0 removes that schedule).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

SYNC_ALL_SCHEDULE = "SmartPlex: sync all"
SYNC_ALL_FUNC = "syncing.tasks.sync_all_task"
PLEX_CHANGES_SCHEDULE = "SmartPlex: Plex changes"
PLEX_CHANGES_FUNC = "syncing.tasks.plex_changes_task"


def schedules_ensure() -> Schedule:
    """Create or update every schedule; re-running never duplicates one. Returns sync_all's."""
    if settings.PLEX_CHANGES_MINUTES:
        _schedule_ensure(PLEX_CHANGES_SCHEDULE, PLEX_CHANGES_FUNC, settings.PLEX_CHANGES_MINUTES)
    else:
        Schedule.objects.filter(name=PLEX_CHANGES_SCHEDULE).delete()
    return _schedule_ensure(SYNC_ALL_SCHEDULE, SYNC_ALL_FUNC, settings.SYNC_INTERVAL_HOURS * 60)


def _schedule_ensure(name: str, func: str, minutes: int) -> Schedule:
    """One named schedule every `minutes`.

    The next run is kept when only other fields change, and moved when the interval does,
    so restarting the app does not postpone a run that is due.
    """
    schedule = Schedule.objects.filter(name=name).order_by("pk").first()
    if schedule is None:
        return Schedule.objects.create(
            name=name,
            func=func,
            kwargs="trigger='schedule'",
            schedule_type=Schedule.MINUTES,
            minutes=minutes,
            repeats=-1,
            next_run=timezone.now() + timedelta(minutes=minutes),
        )
    Schedule.objects.filter(name=name).exclude(pk=schedule.pk).delete()
    if schedule.minutes != minutes:
        schedule.next_run = timezone.now() + timedelta(minutes=minutes)
    schedule.func = func
    schedule.kwargs = "trigger='schedule'"
    schedule.schedule_type = Schedule.MINUTES
    schedule.minutes = minutes
    schedule.repeats = -1
    schedule.save()
    return schedule
