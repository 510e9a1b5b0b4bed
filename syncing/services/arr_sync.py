"""`sync_arr`: read what each Radarr/Sonarr holds and link it to the Plex mirror.

Each instance is read whole (movies with their files; series, then each series' episodes
and episode files) and its rows in `arr_items` / `arr_episodes` are replaced in one
transaction, so a failed read leaves the previous picture intact. Links to `media_items`
of the instance's Plex server are found in memory from one query: by file path first
(after the instance's path mappings), then by TMDB / TVDB / IMDB id, and for episodes by
season and episode number inside the linked show. What only one side has is counted and
listed on the run. Disk space and root folders are stored for the capacity source.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from media.models import MediaItem
from syncing.clients.arr import ArrClient, ArrMovie, ArrSeries
from syncing.models import ArrEpisode, ArrItem, ArrServer
from syncing.runs import RunContext
from syncing.services.arr_disks import arr_diskspace_store

LIST_LIMIT = 50  # titles listed per side on the run; the counts are exact
Progress = Callable[..., None]
Match = ArrItem.MatchedBy


def arr_client_for(*, server: ArrServer) -> ArrClient:
    return ArrClient(
        server.base_url, server.api_key, kind=server.kind, timeout=settings.ARR_TIMEOUT,
        backoff=settings.ARR_RETRY_BACKOFF,
    )  # fmt: skip


@dataclass
class ArrSyncResult:
    version: str = ""
    items: int = 0
    episodes: int = 0
    linked: int = 0
    requests: int = 0
    unmatched_arr: list[str] = field(default_factory=list)
    unmatched_arr_count: int = 0
    unmatched_plex: list[str] = field(default_factory=list)
    unmatched_plex_count: int = 0

    def details(self) -> dict:
        """What the run's `details` shows: both unmatched lists and their exact counts."""
        return {
            "arr_version": self.version,
            "unmatched_in_arr": {"count": self.unmatched_arr_count, "titles": self.unmatched_arr},
            "unmatched_in_plex": {
                "count": self.unmatched_plex_count,
                "titles": self.unmatched_plex,
            },
        }


class PlexIndex:
    """Lookups into one Plex server's live items, built from a single query."""

    def __init__(self, plex_server_id: int, types: tuple[str, ...]):
        self.path: dict[str, tuple[int, int | None]] = {}
        self.ids: dict[tuple[str, str, str], int] = {}  # (type, scheme, value) → item id
        self.show_by_key: dict[int, int] = {}
        self.episode_ids: dict[tuple[str, str], tuple[int, int | None]] = {}
        self.episode_number: dict[tuple[int, int, int], int] = {}
        rows = MediaItem.objects.filter(
            server_id=plex_server_id, removed_at__isnull=True, type__in=types
        ).values_list(
            "id", "type", "plex_id", "file_path", "tmdb_id", "tvdb_id", "imdb_id",
            "grandparent_plex_id", "season_number", "episode_number",
        )  # fmt: skip
        for pk, kind, key, path, tmdb, tvdb, imdb, show, season, number in rows.iterator(5000):
            self._add(pk, kind, key, path, {"tmdb": tmdb, "tvdb": tvdb, "imdb": imdb}, show)
            if kind == "episode" and season is not None and number is not None:
                self.episode_number[(show, season, number)] = pk

    def _add(self, pk, kind, key, path, ids, show) -> None:
        if path:
            self.path[path] = (pk, show)
        if kind == "show":
            self.show_by_key[key] = pk
        for scheme, value in ids.items():
            if not value:
                continue
            if kind == "episode":
                self.episode_ids[(scheme, value)] = (pk, show)
            else:
                self.ids.setdefault((kind, scheme, value), pk)

    def by_ids(self, kind: str, **ids: object) -> tuple[int | None, str]:
        for scheme, value in ids.items():
            pk = self.ids.get((kind, scheme, str(value))) if value else None
            if pk is not None:
                return pk, scheme
        return None, Match.NONE


def arr_sync_work(ctx: RunContext) -> None:
    """The work of an "arr" run (syncing.kinds): one instance read, linked and stored."""
    result = arr_server_sync(server=ctx.target, progress=ctx.progress)
    ctx.run.details = result.details()
    ctx.progress(
        items_seen=result.items + result.episodes,
        items_updated=result.linked,
        unmatched=result.unmatched_arr_count + result.unmatched_plex_count,
        requests_made=result.requests,
        progress_label=f"{result.items} {'movies' if ctx.target.kind == 'radarr' else 'series'}",
    )


def arr_server_sync(*, server: ArrServer, progress: Progress | None = None) -> ArrSyncResult:
    """Read one instance, replace its rows, refresh its disk space; see the module docstring."""
    progress = progress or (lambda **_: None)
    radarr = server.kind == ArrServer.Kind.RADARR
    index = PlexIndex(server.plex_server_id, ("movie",) if radarr else ("show", "episode"))
    result = ArrSyncResult()
    with arr_client_for(server=server) as client:
        result.version = client.status().version
        if radarr:
            items, episodes = _radarr_rows(client, server, index), {}
        else:
            items, episodes = _sonarr_rows(client, server, index, progress)
        disks, roots = client.diskspace(), client.root_folders()
        result.requests = client.requests_made
    _rows_replace(server, items, episodes)
    arr_diskspace_store(server=server, disks=disks, roots=roots)
    ArrServer.objects.filter(pk=server.pk).update(version=result.version)
    result.items, result.episodes = len(items), sum(map(len, episodes.values()))
    result.linked = sum(1 for i in items if i.media_item_id)
    _unmatched(server, items, result)
    return result


def _radarr_rows(client: ArrClient, server: ArrServer, index: PlexIndex) -> list[ArrItem]:
    rows = []
    for movie in client.movies():
        plex_path = server.plex_path(movie.file_path)
        hit = index.path.get(plex_path) if plex_path else None
        pk, how = (
            (hit[0], Match.PATH)
            if hit
            else index.by_ids("movie", tmdb=movie.tmdb_id, imdb=movie.imdb_id)
        )
        rows.append(_item(server, movie, pk, how, file_path=plex_path))
    return rows


def _item(server, raw: ArrMovie | ArrSeries, pk, how, **extra) -> ArrItem:
    is_movie = isinstance(raw, ArrMovie)
    return ArrItem(
        server=server, kind=ArrItem.Kind.MOVIE if is_movie else ArrItem.Kind.SERIES,
        arr_id=raw.id, title=raw.title[:500], year=raw.year, tmdb_id=_s(raw.tmdb_id),
        tvdb_id=None if is_movie else _s(raw.tvdb_id), imdb_id=raw.imdb_id, path=raw.path,
        monitored=raw.monitored, tags=list(raw.tags), quality_profile_id=raw.quality_profile_id,
        size_on_disk=raw.size_on_disk, media_item_id=pk, matched_by=how,
        file_id=raw.file_id if is_movie else None,
        seasons=[] if is_movie else [[s.number, s.monitored] for s in raw.seasons], **extra,
    )  # fmt: skip


def _s(value: object) -> str | None:
    return str(value) if value else None


def _sonarr_rows(client, server, index: PlexIndex, progress: Progress):
    everything = client.series()
    items: list[ArrItem] = []
    episodes: dict[int, list[ArrEpisode]] = {}
    for n, series in enumerate(everything, start=1):
        rows, show_key = _episode_rows(client, server, index, series)
        pk, how = (index.show_by_key.get(show_key), Match.PATH) if show_key else (None, "")
        if pk is None:
            pk, how = index.by_ids(
                "show", tvdb=series.tvdb_id, tmdb=series.tmdb_id, imdb=series.imdb_id
            )
        _episodes_by_number(index, rows, pk, series, index_shows=show_key)
        items.append(_item(server, series, pk, how))
        episodes[series.id] = rows
        if n % 25 == 0 or n == len(everything):
            progress(progress_done=n, progress_total=len(everything), progress_label="series")
    return items, episodes


def _episode_rows(client, server, index: PlexIndex, series: ArrSeries):
    """One series' episodes with their files, linked to Plex episodes by path; returns the
    rows and the Plex show most of the path-linked episodes belong to."""
    files = {f.id: f for f in client.episode_files(series.id)}
    rows, shows = [], Counter()
    for ep in client.episodes(series.id):
        file = files.get(ep.file_id) if ep.file_id else None
        plex_path = server.plex_path(file.path) if file else None
        hit = index.path.get(plex_path) if plex_path else None
        if hit:
            shows[hit[1]] += 1
        rows.append(
            ArrEpisode(
                server=server, arr_id=ep.id, season_number=ep.season_number,
                episode_number=ep.episode_number, tvdb_id=_s(ep.tvdb_id), monitored=ep.monitored,
                file_id=file.id if file else None, file_path=plex_path, size=file.size if file else 0,
                media_item_id=hit[0] if hit else None, matched_by=Match.PATH if hit else "",
            )
        )  # fmt: skip
    return rows, (shows.most_common(1)[0][0] if shows else None)


def _episodes_by_number(index: PlexIndex, rows, show_pk, series, *, index_shows) -> None:
    """Episodes not linked by path: by their TVDB id, then by season/episode number within
    the show the series is linked to."""
    show_key = index_shows or next((k for k, v in index.show_by_key.items() if v == show_pk), None)
    for row in rows:
        if row.media_item_id:
            continue
        hit = index.episode_ids.get(("tvdb", row.tvdb_id)) if row.tvdb_id else None
        if hit and (show_key is None or hit[1] == show_key):
            row.media_item_id, row.matched_by = hit[0], Match.TVDB
        elif show_key is not None:
            pk = index.episode_number.get((show_key, row.season_number, row.episode_number))
            if pk is not None:
                row.media_item_id, row.matched_by = pk, Match.NUMBER


@transaction.atomic
def _rows_replace(server: ArrServer, items: list[ArrItem], episodes: dict) -> None:
    ArrEpisode.objects.filter(server=server).delete()
    ArrItem.objects.filter(server=server).delete()
    now = timezone.now()
    for item in items:
        item.synced_at = now
    ArrItem.objects.bulk_create(items, batch_size=2000)
    rows = []
    for item in items:
        for row in episodes.get(item.arr_id, ()) if item.kind == ArrItem.Kind.SERIES else ():
            row.series = item
            rows.append(row)
    ArrEpisode.objects.bulk_create(rows, batch_size=2000)


def _unmatched(server: ArrServer, items: list[ArrItem], result: ArrSyncResult) -> None:
    """What this instance holds that Plex has not, and what Plex has that no instance of
    this kind (linked to the same Plex server) holds."""
    missing = [f"{i.title} ({i.year})" if i.year else i.title for i in items if not i.media_item_id]
    result.unmatched_arr_count, result.unmatched_arr = len(missing), missing[:LIST_LIMIT]
    kind = ArrItem.Kind.MOVIE if server.kind == ArrServer.Kind.RADARR else ArrItem.Kind.SERIES
    held = ArrItem.objects.filter(
        kind=kind, media_item=OuterRef("pk"), server__plex_server=server.plex_server_id
    )
    plex_only = MediaItem.objects.filter(
        server_id=server.plex_server_id, removed_at__isnull=True,
        type="movie" if kind == ArrItem.Kind.MOVIE else "show",
    ).filter(~Exists(held))  # fmt: skip
    result.unmatched_plex_count = plex_only.count()
    result.unmatched_plex = [str(i) for i in plex_only.order_by("title")[:LIST_LIMIT]]


def arr_connection_test(*, server: ArrServer) -> str:
    """Call `system/status` and remember the version: "Radarr 5.26.2…" (ArrError if not)."""
    with arr_client_for(server=server) as client:
        status = client.status()
    ArrServer.objects.filter(pk=server.pk).update(version=status.version)
    return f"{status.app_name or server.get_kind_display()} {status.version}".strip()
