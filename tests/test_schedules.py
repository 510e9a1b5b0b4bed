"""The sync_all schedule is declared in code: created once, never duplicated, kept current."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from syncing.services.schedules import SYNC_ALL_FUNC, SYNC_ALL_SCHEDULE, schedules_ensure

pytestmark = pytest.mark.django_db


def test_migrate_created_the_schedule_once():
    schedules = Schedule.objects.filter(name=SYNC_ALL_SCHEDULE)
    assert schedules.count() == 1
    schedule = schedules.get()
    assert schedule.func == SYNC_ALL_FUNC
    assert schedule.schedule_type == Schedule.MINUTES
    assert schedule.minutes == 12 * 60
    assert schedule.repeats == -1


def test_migrating_again_does_not_duplicate_or_move_it():
    before = Schedule.objects.get(name=SYNC_ALL_SCHEDULE)
    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)
    after = Schedule.objects.get(name=SYNC_ALL_SCHEDULE)
    assert after.pk == before.pk
    assert after.next_run == before.next_run


def test_interval_change_is_applied(settings):
    settings.SYNC_INTERVAL_HOURS = 6
    call_command("migrate", verbosity=0)
    schedule = Schedule.objects.get(name=SYNC_ALL_SCHEDULE)
    assert schedule.minutes == 360
    assert Schedule.objects.filter(name=SYNC_ALL_SCHEDULE).count() == 1


def test_stray_duplicates_are_removed():
    Schedule.objects.create(
        name=SYNC_ALL_SCHEDULE, func=SYNC_ALL_FUNC, schedule_type="I", minutes=5
    )
    schedules_ensure()
    assert Schedule.objects.filter(name=SYNC_ALL_SCHEDULE).count() == 1
