"""django-q2 tasks: take ids, load rows, call the run skeleton (the schedule and "Sync now")."""

from __future__ import annotations

import logging

from syncing.models import SyncRun
from syncing.runs import SyncAlreadyRunning, run_execute
from syncing.services.operations import sync_all
from syncing.services.plex_changes import plex_changes_all

logger = logging.getLogger(__name__)


def sync_all_task(trigger: str = "schedule") -> list[int]:
    return [run.pk for run in sync_all(trigger=trigger)]


def plex_changes_task(trigger: str = "schedule") -> list[int]:
    """The light Plex sync of every enabled server (skipped where a full sync runs)."""
    return [run.pk for run in plex_changes_all(trigger=trigger)]


def sync_runs_task(run_ids: list[int]) -> list[str]:
    """Execute queued runs in the given order; one failing never stops the next.

    A run that is no longer queued (the task was delivered twice, or another worker took
    it) is skipped: the claim in run_execute makes every run happen once.
    """
    runs = {run.pk: run for run in SyncRun.objects.filter(pk__in=run_ids)}
    outcomes = []
    for run in (runs[pk] for pk in run_ids if pk in runs):
        try:
            outcomes.append(run_execute(run).status)
        except SyncAlreadyRunning as exc:
            logger.info("Run #%s not started: %s", run.pk, exc)
            outcomes.append("skipped")
    return outcomes
