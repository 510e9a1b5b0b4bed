"""Runs left by a dead worker are failed once stale and queued again, in pipeline order,
by the every-minute recovery (syncing.services.operations.runs_recover)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from syncing.models import SyncRun
from syncing.runs import run_queue
from syncing.services.operations import runs_recover
from syncing.services.schedules import RECOVER_FUNC, RECOVER_SCHEDULE
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_pipeline(settings):
    """A sync_all whose worker died: Plex running and Tautulli queued, both silent."""
    plex = factories.plex_server(base_url="http://127.0.0.1:9")
    tautulli = factories.tautulli_server(plex=plex, base_url="http://127.0.0.1:9")
    runs = [run_queue(kind="plex", target=plex), run_queue(kind="tautulli", target=tautulli)]
    old = timezone.now() - timedelta(minutes=settings.SYNC_STALE_MINUTES + 1)
    SyncRun.objects.filter(pk=runs[0].pk).update(status="running", heartbeat_at=old)
    SyncRun.objects.filter(pk=runs[1].pk).update(heartbeat_at=old)
    return runs


def test_stale_runs_are_failed_and_retried_in_pipeline_order(dead_pipeline):
    retried = runs_recover()

    for run in dead_pipeline:
        run.refresh_from_db()
        assert run.status == "failed" and run.error.startswith("Stale")
    assert [(r.kind, r.status, r.trigger) for r in retried] == [
        ("plex", "queued", "retry"),
        ("tautulli", "queued", "retry"),
    ]
    assert [r.target for r in retried] == [r.target for r in dead_pipeline]


def test_a_stale_run_is_retried_once(dead_pipeline):
    assert len(runs_recover()) == 2
    assert runs_recover() == []
    assert SyncRun.objects.filter(trigger="retry").count() == 2


def test_a_stale_run_failed_by_someone_else_is_still_retried(dead_pipeline):
    # A "Sync now" of an unrelated kind fails stale runs on its way (run_queue does).
    other = factories.plex_server(name="Other", base_url="http://127.0.0.1:9")
    run_queue(kind="plex", target=other)
    assert SyncRun.objects.filter(status="failed").count() == 2

    assert [r.kind for r in runs_recover()] == ["plex", "tautulli"]


def test_live_runs_are_left_alone(db):
    plex = factories.plex_server(base_url="http://127.0.0.1:9")
    run_queue(kind="plex", target=plex)

    assert runs_recover() == []
    assert SyncRun.objects.get().status == "queued"


def test_the_recovery_runs_every_minute_without_filling_the_task_list():
    schedule = Schedule.objects.get(name=RECOVER_SCHEDULE)
    assert schedule.func == RECOVER_FUNC and schedule.minutes == 1 and schedule.repeats == -1
    assert "'save': False" in schedule.kwargs
