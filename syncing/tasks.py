"""django-q2 tasks: take ids, load rows, call the run skeleton (the schedule and "Sync now")."""

from __future__ import annotations

import logging

from syncing.models import SyncRun
from syncing.services.operations import runs_execute_in_order, runs_recover, sync_all
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
    done = {run.pk for run in runs_execute_in_order([runs[pk] for pk in run_ids if pk in runs])}
    return [runs[pk].status if pk in done else "skipped" for pk in run_ids if pk in runs]


def runs_recover_task() -> list[int]:
    return [run.pk for run in runs_recover()]
