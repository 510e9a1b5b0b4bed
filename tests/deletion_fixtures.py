"""Builders shared by the deletion tests (crafted libraries with known statistics)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from media.models import PlexServer
from syncing.models import Play, SyncRun, TautulliServer
from tests import factories


def history_synced(
    server: PlexServer, *, error: str = "", history_days: int = 1000, **tautulli_fields
) -> TautulliServer:
    """Give `server` a Tautulli connection whose last history sync ended (ok or failed),
    knowing plays since `history_days` ago (so older items are not "possibly watched").
    `tautulli_fields` (base_url, api_key) point it at a simulator for execution tests."""
    tautulli = factories.tautulli_server(plex=server, **tautulli_fields)
    Play.objects.create(tautulli=tautulli, row_id=1, started=days_ago(history_days))
    SyncRun.objects.create(
        kind="tautulli",
        tautulli_server=tautulli,
        lock_key=f"tautulli:{tautulli.pk}",
        trigger="test",
        status="failed" if error else "success",
        error=error,
        finished_at=timezone.now(),
    )
    return tautulli


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)
