"""Read-side queries over sync runs (the "last synced" badge, recent runs)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
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
    live: bool = False  # Plex: the listener is connected and the last light sync is recent

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
    kind: str,
    label: str,
    now: datetime,
    times: dict,
    running: SyncRun | None,
    interval: timedelta | None = None,
) -> BadgePart:
    interval = interval or timedelta(hours=settings.SYNC_INTERVAL_HOURS)
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

    It is on every page, so it costs one query (one more while a run is active, one more
    when the last run failed): the newest finished and successful times per kind and how
    many runs are active, in one GROUP BY; then the active runs, when there are any.
    """
    now = now or timezone.now()
    active = Q(status__in=SyncRun.ACTIVE_STATUSES)
    times = {
        row["kind"]: row
        for row in SyncRun.objects.values("kind").annotate(
            last_success=Max("finished_at", filter=Q(status=SyncRun.Status.SUCCESS)),
            last_finished=Max("finished_at", filter=~active),
            active=Count("pk", filter=active),
        )
    }
    running: dict[str, SyncRun] = {}
    if any(row["active"] for row in times.values()):
        for run in SyncRun.objects.filter(active).order_by("started_at"):
            running[run.kind] = run  # the newest one of each kind wins
    tautulli = SyncRun.Kind.TAUTULLI
    return [
        _plex_badge_part(now, times, running.get(SyncRun.Kind.PLEX)),
        _badge_part(tautulli, "Tautulli", now, times.get(tautulli, {}), running.get(tautulli)),
    ]


_STATE_ORDER = ("fresh", "stale", "old", "failed")


def _plex_badge_part(now: datetime, times: dict, running: SyncRun | None) -> BadgePart:
    """Plex freshness: the full sync's age against SYNC_INTERVAL_HOURS and, once light syncs
    run, the light sync's against 2x PLEX_CHANGES_MINUTES (amber past 4x); the worse one
    wins. The time shown is the newest of the full, light and event runs; "live" while
    the listener is connected and the light sync is fresh. One query more: the listener."""
    from syncing.services.plex_events import listener_states

    full = _badge_part(SyncRun.Kind.PLEX, "Plex", now, times.get(SyncRun.Kind.PLEX, {}), running)
    light_times = times.get(SyncRun.Kind.PLEX_CHANGES, {})
    newest = [
        t
        for kind in (SyncRun.Kind.PLEX, SyncRun.Kind.PLEX_CHANGES, SyncRun.Kind.PLEX_EVENTS)
        if (t := times.get(kind, {}).get("last_success"))
    ]
    if not settings.PLEX_CHANGES_MINUTES or not light_times.get("last_finished"):
        return replace(full, last_success_at=max(newest, default=None))
    every = timedelta(minutes=2 * settings.PLEX_CHANGES_MINUTES)
    light = _badge_part(SyncRun.Kind.PLEX_CHANGES, "Plex", now, light_times, None, every)
    if full.state == "never":  # light syncs imported everything; nothing reconciled yet
        full = replace(full, state="stale")
    worse = max(full, light, key=lambda part: _STATE_ORDER.index(part.state))
    live = light.state == "fresh" and any(s.connected for s in listener_states(now=now).values())
    return replace(
        worse, kind="plex", running=running, last_success_at=max(newest, default=None), live=live
    )
