"""Builders shared by the deletion tests (crafted libraries with known statistics)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from media.models import PlexServer
from syncing.models import Play, TautulliServer
from syncing.runs import sync_run_finish, sync_run_start
from tests import factories


def history_synced(
    server: PlexServer, *, error: str = "", history_days: int = 1000
) -> TautulliServer:
    """Give `server` a Tautulli connection whose last history sync ended (ok or failed),
    knowing plays since `history_days` ago (so older items are not "possibly watched")."""
    tautulli = factories.tautulli_server(plex=server)
    Play.objects.create(tautulli=tautulli, row_id=1, started=days_ago(history_days))
    run = sync_run_start(kind="tautulli", tautulli_server=tautulli, trigger="test")
    sync_run_finish(run, error=error)
    return tautulli


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def mirror_library(server: PlexServer, library, *, added_days: int = 200) -> None:
    """Store a simulator library as the Plex sync would (old, never-watched items)."""
    from media.models import MediaItem

    rows = []
    for obj in library.iter_items():
        size = None
        if obj.media_type in ("movie", "episode"):
            size = sum(p.size for m in obj.media for p in m.parts)
        rows.append(
            MediaItem(
                server=server,
                plex_id=obj.rating_key,
                title=obj.title,
                type=obj.media_type,
                file_size_bytes=size,
                added_at=days_ago(added_days),
                parent_plex_id=obj.parent_rating_key,
                grandparent_plex_id=obj.grandparent_rating_key,
                parent_title=obj.parent_title,
                grandparent_title=obj.grandparent_title,
                season_number=obj.season_number,
                episode_number=obj.episode_number,
            )
        )
    MediaItem.objects.bulk_create(rows)
