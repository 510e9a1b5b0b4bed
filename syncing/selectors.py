"""Read-side queries over sync runs (the "last synced" badge, recent runs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from syncing.models import SyncRun


@dataclass(frozen=True)
class BadgePart:
    """The state of one kind of sync (Plex or Tautulli) for the header badge."""

    kind: str
    label: str
    state: str  # "fresh" | "stale" | "old" | "failed" | "never"
    last_success_at: datetime | None
    error: str
    running: SyncRun | None

    @property
    def css(self) -> str:
        return {"fresh": "green", "stale": "amber"}.get(self.state, "red")

    @property
    def progress_percent(self) -> int | None:
        run = self.running
        if run is None or not run.progress_total:
            return None
        return min(100, round(100 * run.progress_done / run.progress_total))


def _badge_part(kind: str, label: str, now: datetime) -> BadgePart:
    interval = timedelta(hours=settings.SYNC_INTERVAL_HOURS)
    runs = SyncRun.objects.filter(kind=kind)
    running = runs.filter(status=SyncRun.Status.RUNNING).order_by("-started_at").first()
    last_finished = (
        runs.exclude(status=SyncRun.Status.RUNNING)
        .order_by("-finished_at")
        .only("status", "error", "finished_at")
        .first()
    )
    last_success = (
        runs.filter(status=SyncRun.Status.SUCCESS)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    error = ""
    if last_finished is not None and last_finished.status == SyncRun.Status.FAILED:
        state, error = "failed", last_finished.error
    elif last_success is None:
        state = "never"
    elif now - last_success <= interval:
        state = "fresh"
    elif now - last_success <= 2 * interval:
        state = "stale"
    else:
        state = "old"
    return BadgePart(kind, label, state, last_success, error, running)


def sync_badge_get(*, now: datetime | None = None) -> list[BadgePart]:
    """Plex and Tautulli freshness: green within the interval, amber within 2x, else red."""
    now = now or timezone.now()
    return [
        _badge_part(SyncRun.Kind.PLEX, "Plex", now),
        _badge_part(SyncRun.Kind.TAUTULLI, "Tautulli", now),
    ]
