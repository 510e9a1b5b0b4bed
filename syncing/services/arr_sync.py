"""`sync_arr`: read what each Radarr/Sonarr holds and link it to the Plex mirror.

Each instance is read whole (movies with their files; series, then each series' episodes
and episode files) before anything is written; its rows in `arr_items` / `arr_episodes` are
then brought to that picture in one transaction (arr_rows: only new and changed rows are
written), so a failed read leaves the previous picture intact. Links to `media_items`
of the instance's Plex server are found in memory from one query: by file path first
(after the instance's path mappings), then by TMDB / TVDB / IMDB id, and for episodes by
season and episode number inside the linked show. What only one side has is counted and
listed on the run. Disk space and root folders are stored for the capacity source.
"""

from __future__ import annotations

import gc
import json
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from media.formatting import title_with_year
from media.models import MediaItem
from syncing.clients.arr import ArrClient, ArrEpisodeFile, ArrMovie, ArrSeries
from syncing.clients.arr import ArrEpisode as ArrEpisodeRaw
from syncing.models import ArrItem, ArrServer
from syncing.runs import RunContext
from syncing.services.arr_disks import arr_diskspace_store
from syncing.services.arr_reads import ArrReader
from syncing.services.arr_rows import (
    EPISODES,
    ITEMS,
    Rows,
    rows_delete,
    rows_diff,
    rows_stamp,
    rows_write,
)

LIST_LIMIT = 50  # titles listed per side on the run; the counts are exact
Progress = Callable[..., None]
Match = ArrItem.MatchedBy
_TITLE, _YEAR, _MEDIA = (ITEMS.fields.index(name) for name in ("title", "year", "media_item"))


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
    written: dict[str, int] = field(default_factory=dict)  # rows created / updated / deleted
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase
    unmatched_arr: list[str] = field(default_factory=list)
    unmatched_arr_count: int = 0
    unmatched_plex: list[str] = field(default_factory=list)
    unmatched_plex_count: int = 0
    capacity_changed: bool = False  # the capacity the dashboard shows (source "arr") moved

    def details(self) -> dict:
        """What the run's `details` shows: both unmatched lists and their exact counts."""
        return {
            "arr_version": self.version,
            "capacity_changed": self.capacity_changed,
            "rows_written": self.written,
            "timings": self.timings,
            "unmatched_in_arr": {"count": self.unmatched_arr_count, "titles": self.unmatched_arr},
            "unmatched_in_plex": {
                "count": self.unmatched_plex_count,
                "titles": self.unmatched_plex,
            },
        }


class PlexIndex:
    """Lookups into one Plex server's live items, built from a single query (and the
    movies' or shows' titles from a second)."""

    def __init__(self, plex_server_id: int, types: tuple[str, ...]):
        self.path: dict[str, tuple[int, int | None]] = {}
        self.ids: dict[tuple[str, str, str], tuple[int]] = {}  # (type, scheme, value) → (id,)
        self.show_by_key: dict[int, int] = {}
        self.key_by_show: dict[int, int] = {}
        self.episode_ids: dict[tuple[str, str], tuple[int, int | None]] = {}
        self.episode_number: dict[tuple[int, int, int], tuple[int]] = {}
        # order_by(): without it MediaItem's default ordering (title) made PostgreSQL walk
        # the title index over every server's items for its cursor (0.2-0.4 s, measured).
        live = MediaItem.objects.filter(server_id=plex_server_id, removed_at__isnull=True)
        rows = live.filter(type__in=types).order_by().values_list(
            "id", "type", "plex_id", "file_path", "tmdb_id", "tvdb_id", "imdb_id",
            "grandparent_plex_id", "season_number", "episode_number",
        )  # fmt: skip
        for pk, kind, key, path, tmdb, tvdb, imdb, show, season, number in rows.iterator(5000):
            self._add(pk, kind, key, path, {"tmdb": tmdb, "tvdb": tvdb, "imdb": imdb}, show)
            if kind == "episode" and season is not None and number is not None:
                _lowest(self.episode_number, (show, season, number), (pk,))
        # The movies or shows, for what Plex has that no instance holds: read here, while
        # the *arr's first answers are on their way. Unordered: only the few unmatched are
        # sorted (ordered by title, it took 0.15 s for 10k movies on PostgreSQL).
        tops = live.filter(type=types[0]).order_by().values_list("pk", "title", "year")
        self.tops = list(tops)

    def _add(self, pk, kind, key, path, ids, show) -> None:
        if path:
            _lowest(self.path, path, (pk, show))
        if kind == "show":
            self.show_by_key[key] = pk
            self.key_by_show[pk] = key
        for scheme, value in ids.items():
            if not value:
                continue
            if kind == "episode":
                _lowest(self.episode_ids, (scheme, value), (pk, show))
            else:
                _lowest(self.ids, (kind, scheme, value), (pk,))

    def by_ids(self, kind: str, **ids: object) -> tuple[int | None, str]:
        for scheme, value in ids.items():
            hit = self.ids.get((kind, scheme, str(value))) if value else None
            if hit is not None:
                return hit[0], scheme
        return None, Match.NONE


def _lowest(into: dict, key, value: tuple) -> None:
    """Of the items sharing a path or an id, keep the one Plex listed first (lowest id,
    `value[0]`): the same link on every sync whatever order the rows come back in (the
    index is read unordered)."""
    old = into.get(key)
    if old is None or old[0] > value[0]:
        into[key] = value


def arr_sync_work(ctx: RunContext) -> None:
    """The work of an "arr" run (syncing.kinds): one instance read, linked and stored."""
    result = arr_server_sync(server=ctx.target, progress=ctx.progress)
    ctx.run.details = result.details()
    ctx.progress(
        items_seen=result.items + result.episodes,
        items_updated=result.linked,
        unmatched=result.unmatched_arr_count + result.unmatched_plex_count,
        requests_made=result.requests,
        items_created=result.written["created"],
        items_gone=result.written["deleted"],
        progress_label=f"{result.items} {'movies' if ctx.target.kind == 'radarr' else 'series'}",
    )


def arr_server_sync(*, server: ArrServer, progress: Progress | None = None) -> ArrSyncResult:
    """Read one instance, store its rows, refresh its disk space; see the module docstring."""
    with _no_cycle_collection():
        return _server_sync(server, progress or (lambda **_: None))


@contextmanager
def _no_cycle_collection():
    """The cycle collector paused while the sync builds ~10 objects per row that all stay
    alive to the end: each full collection walked all of them again (profiled: a quarter
    of a 10k-movie sync). Nothing here makes cycles; the collector resumes after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _server_sync(server: ArrServer, progress: Progress) -> ArrSyncResult:
    radarr = server.kind == ArrServer.Kind.RADARR
    result = ArrSyncResult()
    lap = _laps(result.timings)
    with ArrReader(lambda: arr_client_for(server=server)) as reader:
        status = reader.submit("status")
        listing = reader.submit("movies" if radarr else "series")
        disks, roots = reader.submit("diskspace"), reader.submit("root_folders")
        index = PlexIndex(server.plex_server_id, ("movie",) if radarr else ("show", "episode"))
        lap("plex_index_s")  # while the first answers come
        result.version = status.result().version
        if radarr:
            items, episodes = _radarr_rows(listing.result(), server, index), {}
        else:
            items, episodes = _sonarr_rows(reader, listing.result(), server, index, progress)
        disks, roots = disks.result(), roots.result()
        result.requests = reader.requests_made
    lap("read_s")
    result.written = _rows_store(server, items, episodes)
    lap("write_s")
    result.capacity_changed = arr_diskspace_store(server=server, disks=disks, roots=roots)
    if result.version != server.version:
        ArrServer.objects.filter(pk=server.pk).update(version=result.version)
    result.items, result.episodes = len(items), len(episodes)
    result.linked = sum(1 for values in items.values() if values[_MEDIA])
    _unmatched(server, items, index, result)
    lap("unmatched_and_disks_s")
    return result


def _laps(into: dict[str, float]) -> Callable[[str], None]:
    """A stopwatch: each call stores the seconds since the previous one under its name."""
    last = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        into[name] = round(now - last[0], 3)
        last[0] = now

    return lap


def _radarr_rows(movies: list[ArrMovie], server: ArrServer, index: PlexIndex) -> Rows:
    rows = {}
    for movie in movies:
        plex_path = server.plex_path(movie.file_path)
        hit = index.path.get(plex_path) if plex_path else None
        pk, how = (
            (hit[0], Match.PATH)
            if hit
            else index.by_ids("movie", tmdb=movie.tmdb_id, imdb=movie.imdb_id)
        )
        rows[(ArrItem.Kind.MOVIE.value, movie.id)] = _item(movie, pk, how, file_path=plex_path)
    return rows


def _item(raw: ArrMovie | ArrSeries, pk, how, file_path: str | None = None) -> tuple:
    """An arr_items row (ITEMS layout); JSON as the text the database hands back."""
    is_movie = isinstance(raw, ArrMovie)
    seasons = [] if is_movie else [[s.number, s.monitored] for s in raw.seasons]
    return ITEMS.values(
        title=raw.title[:500], year=raw.year, tmdb_id=_s(raw.tmdb_id),
        tvdb_id=None if is_movie else _s(raw.tvdb_id), imdb_id=raw.imdb_id, path=raw.path,
        monitored=raw.monitored, tags=_json(list(raw.tags)),
        quality_profile_id=raw.quality_profile_id, seasons=_json(seasons),
        file_id=raw.file_id if is_movie else None, file_path=file_path,
        size_on_disk=raw.size_on_disk, media_item=pk, matched_by=how,
    )  # fmt: skip


def _json(value: list) -> str:
    return json.dumps(value) if value else "[]"  # most lists are empty: skip the encoder


def _s(value: object) -> str | None:
    return str(value) if value else None


def _sonarr_rows(
    reader: ArrReader, everything: list[ArrSeries], server, index: PlexIndex, progress: Progress
) -> tuple[Rows, Rows]:
    """Series rows and episode rows (whose `series` is the series' Sonarr id until stored)."""
    items: Rows = {}
    episodes: Rows = {}
    for n, (series, files, eps) in enumerate(reader.per_series(everything), start=1):
        found, show_plex_id = _episode_files(server, index, files, eps)
        pk, how = (index.show_by_key.get(show_plex_id), Match.PATH) if show_plex_id else (None, "")
        if pk is None:
            pk, how = index.by_ids(
                "show", tvdb=series.tvdb_id, tmdb=series.tmdb_id, imdb=series.imdb_id
            )
        show_plex_id = show_plex_id or index.key_by_show.get(pk)
        for ep, file, plex_path, hit in found:
            link = (hit[0], Match.PATH) if hit else _episode_link(index, ep, show_plex_id)
            episodes[(ep.id,)] = _episode(series, ep, file, plex_path, link)
        items[(ArrItem.Kind.SERIES.value, series.id)] = _item(series, pk, how)
        if n % 25 == 0 or n == len(everything):
            progress(progress_done=n, progress_total=len(everything), progress_label="series")
    return items, episodes


def _episode_files(server, index: PlexIndex, files: list[ArrEpisodeFile], eps: list):
    """One series' episodes with their file, its Plex path and the Plex episode at that
    path; and the Plex show most of the path-linked episodes belong to."""
    files = {f.id: f for f in files}
    found, shows = [], Counter()
    for ep in eps:
        file = files.get(ep.file_id) if ep.file_id else None
        plex_path = server.plex_path(file.path) if file else None
        hit = index.path.get(plex_path) if plex_path else None
        if hit:
            shows[hit[1]] += 1
        found.append((ep, file, plex_path, hit))
    return found, (shows.most_common(1)[0][0] if shows else None)


def _episode_link(index: PlexIndex, ep: ArrEpisodeRaw, show_plex_id: int | None):
    """An episode not linked by path: by its TVDB id (within the series' show when that is
    known), then by season/episode number within that show."""
    hit = index.episode_ids.get(("tvdb", str(ep.tvdb_id))) if ep.tvdb_id else None
    if hit and (show_plex_id is None or hit[1] == show_plex_id):
        return hit[0], Match.TVDB
    if show_plex_id is not None:
        hit = index.episode_number.get((show_plex_id, ep.season_number, ep.episode_number))
        if hit is not None:
            return hit[0], Match.NUMBER
    return None, Match.NONE


def _episode(series: ArrSeries, ep: ArrEpisodeRaw, file, plex_path, link) -> tuple:
    return EPISODES.values(
        series=series.id, season_number=ep.season_number, episode_number=ep.episode_number,
        tvdb_id=_s(ep.tvdb_id), monitored=ep.monitored, file_id=file.id if file else None,
        file_path=plex_path, size=file.size if file else 0, media_item=link[0],
        matched_by=link[1],
    )  # fmt: skip


@transaction.atomic
def _rows_store(server: ArrServer, items: Rows, episodes: Rows) -> dict[str, int]:
    """Bring the server's rows to `items` and `episodes` (arr_rows): new and changed rows
    written, gone ones deleted (episodes before their series), every item stamped.
    Returns how many rows were created, updated and deleted."""
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    item_diff = rows_diff(ITEMS, server_id=server.pk, rows=items)
    rows_write(ITEMS, server_id=server.pk, diff=item_diff, stamp=stamp)
    diffs = [item_diff]
    if server.kind == ArrServer.Kind.SONARR:
        series_pk = dict(
            ArrItem.objects.filter(server=server, kind=ArrItem.Kind.SERIES)
            .order_by()
            .values_list("arr_id", "pk")
        )
        episodes = {k: (series_pk[v[0]], *v[1:]) for k, v in episodes.items()}
        episode_diff = rows_diff(EPISODES, server_id=server.pk, rows=episodes)
        rows_delete(EPISODES, episode_diff.gone)
        rows_write(EPISODES, server_id=server.pk, diff=episode_diff)
        diffs.append(episode_diff)
    rows_delete(ITEMS, item_diff.gone)
    if len(items) > len(item_diff.new) + len(item_diff.changed):  # some rows were unchanged
        rows_stamp(ITEMS, server_id=server.pk, stamp=stamp)
    return {
        "created": sum(len(d.new) for d in diffs),
        "updated": sum(len(d.changed) for d in diffs),
        "deleted": sum(len(d.gone) for d in diffs),
    }


def _unmatched(server: ArrServer, items: Rows, index: PlexIndex, result: ArrSyncResult) -> None:
    """What this instance holds that Plex has not, and what Plex has that no instance of
    this kind (linked to the same Plex server) holds."""
    missing = [
        f"{v[_TITLE]} ({v[_YEAR]})" if v[_YEAR] else v[_TITLE]
        for v in items.values()
        if not v[_MEDIA]
    ]
    result.unmatched_arr_count, result.unmatched_arr = len(missing), missing[:LIST_LIMIT]
    kind = ArrItem.Kind.MOVIE if server.kind == ArrServer.Kind.RADARR else ArrItem.Kind.SERIES
    # Held: this instance's links (in memory) and those of the other instances of this kind
    # linked to the same Plex server (usually none); the Plex side was read with the index.
    # A set difference, not NOT IN / NOT EXISTS in SQL (PostgreSQL's plan for the titles
    # took ~0.15 s for 10k movies, measured).
    held = set(
        ArrItem.objects.filter(
            kind=kind, server__plex_server=server.plex_server_id, media_item__isnull=False
        )
        .exclude(server=server)
        .order_by()
        .values_list("media_item_id", flat=True)
    )
    held.update(v[_MEDIA] for v in items.values() if v[_MEDIA])
    only = sorted((t, pk, y) for pk, t, y in index.tops if pk not in held)
    result.unmatched_plex_count = len(only)
    result.unmatched_plex = [title_with_year(t, y) for t, _, y in only[:LIST_LIMIT]]


def arr_connection_test(*, server: ArrServer) -> str:
    """Call `system/status` and remember the version: "Radarr 5.26.2…" (ArrError if not)."""
    with arr_client_for(server=server) as client:
        status = client.status()
    ArrServer.objects.filter(pk=server.pk).update(version=status.version)
    return f"{status.app_name or server.get_kind_display()} {status.version}".strip()
