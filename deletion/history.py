"""Is a server's watch history trustworthy enough to call anything "unwatched"?

Missing data is "unknown", never "unwatched": a Plex server whose Tautulli history has
never synced, or whose last Tautulli sync failed, has no candidates. Tautulli only knows
plays since it was installed, so an item added before the earliest play it knows of is
treated as possibly watched at that date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import OuterRef, Subquery

from media.models import PlexServer
from syncing.models import Play, SyncRun, TautulliServer


@dataclass(frozen=True)
class HistoryState:
    eligible_server_ids: frozenset[int]
    blocked: dict[str, str] = field(default_factory=dict)  # server name → why
    history_start: dict[int, datetime] = field(default_factory=dict)  # server id → date


def _tautulli_rows() -> list[TautulliServer]:
    finished = SyncRun.objects.filter(
        kind=SyncRun.Kind.TAUTULLI, tautulli_server=OuterRef("pk")
    ).exclude(status=SyncRun.Status.RUNNING)
    return list(
        TautulliServer.objects.filter(enabled=True).annotate(
            last_status=Subquery(finished.order_by("-finished_at").values("status")[:1]),
            first_success=Subquery(
                finished.filter(status=SyncRun.Status.SUCCESS)
                .order_by("finished_at")
                .values("finished_at")[:1]
            ),
            earliest_play=Subquery(
                Play.objects.filter(tautulli=OuterRef("pk"), started__isnull=False)
                .order_by("started")
                .values("started")[:1]
            ),
        )
    )


def _why_blocked(rows: list[TautulliServer]) -> str:
    if not rows:
        return "no Tautulli connection: its watch history is unknown"
    if any(r.last_status is None for r in rows):
        return "its Tautulli history has never synced successfully"
    if any(r.last_status == SyncRun.Status.FAILED for r in rows):
        return "its last Tautulli sync failed"
    return ""


def history_state_get() -> HistoryState:
    """Which Plex servers may have candidates, why the others may not, and history starts."""
    by_server: dict[int, list[TautulliServer]] = {}
    for row in _tautulli_rows():
        by_server.setdefault(row.plex_server_id, []).append(row)
    eligible, blocked, start = set(), {}, {}
    for server in PlexServer.objects.filter(enabled=True).only("pk", "name"):
        rows = by_server.get(server.pk, [])
        if reason := _why_blocked(rows):
            blocked[server.name] = reason
            continue
        eligible.add(server.pk)
        dates = [r.earliest_play or r.first_success for r in rows]
        if dates := [d for d in dates if d is not None]:
            start[server.pk] = min(dates)
    return HistoryState(frozenset(eligible), blocked, start)
