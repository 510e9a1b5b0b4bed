"""Small factories for tests: plain functions with sensible defaults, override anything."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from media.models import LibrarySection, MediaItem, PlexServer
from syncing.models import ArrServer, TautulliServer

_seq = itertools.count(1000)


def plex_server(**kw) -> PlexServer:
    n = next(_seq)
    defaults = {"name": f"plex-{n}", "base_url": "http://127.0.0.1:9", "token": f"tok-{n}"}
    return PlexServer.objects.create(**{**defaults, **kw})


def tautulli_server(*, plex: PlexServer | None = None, **kw) -> TautulliServer:
    n = next(_seq)
    defaults = {
        "name": f"tautulli-{n}",
        "base_url": "http://127.0.0.1:9",
        "api_key": f"key-{n}",
        "plex_server": plex or plex_server(),
    }
    return TautulliServer.objects.create(**{**defaults, **kw})


def section(*, server: PlexServer, section_type: str = "movie", **kw) -> LibrarySection:
    n = next(_seq)
    defaults = {"key": str(n), "title": f"Section {n}", "section_type": section_type}
    return LibrarySection.objects.create(server=server, **{**defaults, **kw})


def item(*, server: PlexServer, type: str = "movie", **kw) -> MediaItem:
    n = next(_seq)
    defaults = {
        "plex_id": n,
        "title": f"Item {n}",
        "type": type,
        "added_at": timezone.now() - timedelta(days=100),
        "file_size_bytes": 1024**3 if type in ("movie", "episode") else None,
    }
    return MediaItem.objects.create(server=server, **{**defaults, **kw})


def show_tree(
    *, server: PlexServer, title: str = "Show", seasons: int = 2, episodes: int = 3, **ep_kw
) -> tuple[MediaItem, list[MediaItem], list[MediaItem]]:
    """A show with seasons (numbered from 1) and episodes, linked by the stable Plex keys."""
    show = item(server=server, type="show", title=title)
    season_rows, episode_rows = [], []
    for s in range(1, seasons + 1):
        season = item(
            server=server,
            type="season",
            title=f"Season {s}",
            parent_title=title,
            parent_plex_id=show.plex_id,
            season_number=s,
        )
        season_rows.append(season)
        for e in range(1, episodes + 1):
            episode_rows.append(
                item(
                    server=server,
                    type="episode",
                    title=f"{title} {s}x{e}",
                    parent_title=season.title,
                    grandparent_title=title,
                    parent_plex_id=season.plex_id,
                    grandparent_plex_id=show.plex_id,
                    season_number=s,
                    episode_number=e,
                    **ep_kw,
                )
            )
    return show, season_rows, episode_rows


def arr_server(*, plex: PlexServer | None = None, **kw) -> ArrServer:
    n = next(_seq)
    defaults = {
        "kind": "radarr",
        "name": f"arr-{n}",
        "base_url": "http://127.0.0.1:9",
        "api_key": f"arr-key-{n}",
        "plex_server": plex or plex_server(),
    }
    return ArrServer.objects.create(**{**defaults, **kw})
