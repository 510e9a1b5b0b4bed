"""Read-side queries over sync runs (the "last synced" badge, recent runs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from media.models import PlexServer
from syncing.models import ArrServer, SeerrServer, SyncRun, TautulliServer


def plex_servers_for_sync() -> list[PlexServer]:
    """Every enabled Plex server: the targets of the schedule, "Sync now" and the command."""
    return list(PlexServer.objects.filter(enabled=True).order_by("name"))


def tautulli_servers_for_sync() -> list[TautulliServer]:
    """The one definition of "a Tautulli server to sync": enabled, and linked to an enabled
    Plex server (its plays are matched to that server's items). Used by the schedule,
    "Sync now", the command and the webhook alike."""
    return list(
        TautulliServer.objects.filter(enabled=True, plex_server__enabled=True)
        .select_related("plex_server")
        .order_by("name")
    )


def arr_servers_for_sync() -> list[ArrServer]:
    """Every enabled Radarr/Sonarr whose Plex server is enabled (what they hold is linked
    to that server's items)."""
    return list(
        ArrServer.objects.filter(enabled=True, plex_server__enabled=True)
        .select_related("plex_server")
        .order_by("kind", "name")
    )


def seerr_servers_for_sync() -> list[SeerrServer]:
    """Every enabled Seerr server (schedule, "Sync now", the command)."""
    return list(SeerrServer.objects.filter(enabled=True).order_by("name"))


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


def _badge_part(
    kind: str, label: str, now: datetime, times: dict, running: SyncRun | None
) -> BadgePart:
    interval = timedelta(hours=settings.SYNC_INTERVAL_HOURS)
    last_success, last_finished = times.get("last_success"), times.get("last_finished")
    error = ""
    if last_finished is not None and last_finished != last_success:
        state = "failed"
        error = (
            SyncRun.objects.filter(kind=kind, finished_at=last_finished)
            .values_list("error", flat=True)
            .first()
            or ""
        )
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
    """Plex and Tautulli freshness: green within the interval, amber within 2x, else red.

    It is on every page, so it costs two queries (three when the last run failed): the
    newest finished and successful times per kind in one GROUP BY, and the running runs.
    """
    now = now or timezone.now()
    finished = ~Q(status__in=SyncRun.ACTIVE_STATUSES)
    times = {
        row["kind"]: row
        for row in SyncRun.objects.values("kind").annotate(
            last_success=Max("finished_at", filter=Q(status=SyncRun.Status.SUCCESS)),
            last_finished=Max("finished_at", filter=finished),
        )
    }
    running: dict[str, SyncRun] = {}
    for run in SyncRun.objects.filter(status__in=SyncRun.ACTIVE_STATUSES).order_by("started_at"):
        running[run.kind] = run  # the newest one of each kind wins
    return [
        _badge_part(kind, label, now, times.get(kind, {}), running.get(kind))
        for kind, label in ((SyncRun.Kind.PLEX, "Plex"), (SyncRun.Kind.TAUTULLI, "Tautulli"))
    ]
