"""The periodic schedules, declared in code and kept current on every migrate.

`sync_all` every SYNC_INTERVAL_HOURS (the full syncs, which also mark what left Plex), the
light Plex sync every PLEX_CHANGES_MINUTES (0 removes that schedule), and the recovery of
runs left by dead workers every minute.
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
RECOVER_SCHEDULE = "SmartPlex: recover stale runs"
RECOVER_FUNC = "syncing.tasks.runs_recover_task"


def schedules_ensure() -> Schedule:
    """Create or update every schedule; re-running never duplicates one. Returns sync_all's."""
    recover_schedule_ensure()
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


def recover_schedule_ensure() -> Schedule:
    """Every minute, fail and retry the runs of dead workers (syncing.tasks.runs_recover_task).

    Its results are not saved: a task a minute would push the useful ones out of the
    admin's list.
    """
    schedule, _ = Schedule.objects.update_or_create(
        name=RECOVER_SCHEDULE,
        defaults={
            "func": RECOVER_FUNC,
            "kwargs": "q_options={'save': False}",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    return schedule
