"""Tautulli history sync: every play of the server into tautulli_plays, then item statistics.

History is read with grouping=0 in date windows (see tautulli_windows for why and how), and
rows are upserted on (tautulli, row_id), so window overlaps and re-reads never double count.
Statistics are recomputed in SQL from the stored table (tautulli_stats) only after every
window was read: a failed run may leave new plays stored, but item statistics exactly as
they were. Incremental runs re-read from the day before the newest play of the last
successful run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from media.locks import media_items_write_lock
from media.models import MediaItem
from media.statistics import tables_analyze
from syncing.clients.tautulli import HistoryRow, TautulliClient, UserRow
from syncing.models import Play, SyncRun, TautulliServer, UserItemStats
from syncing.runs import ProgressCallback, RunContext, run_now
from syncing.services.ignored_numbers import ignored_numbers_refresh
from syncing.services.requests_link import requests_link
from syncing.services.tautulli_plays import bulk_cache, plays_upsert
from syncing.services.tautulli_rollups import Touched, rollups_rebuild, rollups_refresh
from syncing.services.tautulli_stats import (
    item_stats_recompute,
    item_stats_scope,
    play_tables_analyze,
)
from syncing.services.tautulli_users import tautulli_users_store
from syncing.services.tautulli_windows import (
    history_batches,
    history_oldest_day,
    page_size,
    prefetched,
    utc_day,
)

logger = logging.getLogger(__name__)

ANALYZE_AFTER_ROWS = 10_000  # a bigger import refreshes the planners' statistics
# Pages fetched ahead of the writer: page times vary with the window (a re-planned window
# costs a request and yields nothing) and so do writes; with one page of slack the writer
# waited for the fetcher and then the fetcher for the writer. ~5 MB a page held.
PREFETCH_PAGES = 3


def tautulli_client_for(tautulli: TautulliServer) -> TautulliClient:
    """The one way to get a client for a Tautulli record (timeouts and retries from settings)."""
    return TautulliClient(
        tautulli.base_url,
        tautulli.api_key,
        timeout=settings.TAUTULLI_TIMEOUT,
        retries=settings.TAUTULLI_RETRIES,
        backoff=settings.TAUTULLI_BACKOFF,
    )


@dataclass
class _Import:
    """What one run read: counters for the SyncRun and the keys whose stats must change."""

    tautulli: TautulliServer
    ctx: RunContext
    active_keys: set[int]
    known_keys: set[int]
    known_guids: set[str]
    track: bool = True  # note touched keys and pairs (not needed when everything is rebuilt)
    plex_ids: set[int] = field(default_factory=set)
    orphan_guids: set[str] = field(default_factory=set)
    touched: Touched = field(default_factory=Touched)
    newest_started: int | None = None
    rows_fetched: int = 0
    unmatched: int = 0
    pages: int = 0

    def store(self, rows: list[HistoryRow]) -> None:
        """Upsert one page of plays and keep what the statistics need.

        A full import rebuilds every statistic afterwards, so it only counts (one pass of
        C-level builtins); an incremental run also notes the keys and (user, item) pairs the
        plays touched: ~3 µs a row, a tenth of a full import's read phase.
        """
        plays_upsert(tautulli_id=self.tautulli.pk, rows=rows)
        self.rows_fetched += len(rows)
        self.pages += 1
        if not rows:
            return
        known, guids = self.known_keys, self.known_guids
        self.unmatched += sum(1 for r in rows if r.plex_id not in known and r.guid not in guids)
        newest = max(r.started for r in rows)
        if self.newest_started is None or newest > self.newest_started:
            self.newest_started = newest
        if self.track:
            self._track(rows)

    def _track(self, rows: list[HistoryRow]) -> None:
        """The items (by key, and by GUID for plays of no current item) and pairs touched."""
        self.touched.add(rows)
        active = self.active_keys
        for row in rows:
            key = row.plex_id
            if key is not None:
                self.plex_ids.add(key)
            if key not in active and row.guid:
                self.orphan_guids.add(row.guid)


class _Phases:
    """Wall and CPU seconds of each phase, for the run's details: on a loaded machine the
    wall time is noise, this process's CPU time (all its threads) is not."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._wall, self._cpu = time.monotonic(), time.process_time()

    def lap(self, name: str) -> None:
        wall, cpu = time.monotonic(), time.process_time()
        self.seconds[name] = round(wall - self._wall, 2)
        self.cpu[name] = round(cpu - self._cpu, 2)
        self._wall, self._cpu = wall, cpu

    def figures(self) -> dict[str, dict[str, float]]:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu}


def _new_import(tautulli: TautulliServer, ctx: RunContext, *, track: bool = True) -> _Import:
    items = MediaItem.objects.filter(server_id=tautulli.plex_server_id)
    active, known, guids = set(), set(), set()
    for plex_id, guid, removed_at in items.values_list("plex_id", "guid", "removed_at"):
        known.add(plex_id)
        if removed_at is None:
            active.add(plex_id)
            if guid:
                guids.add(guid)
    return _Import(tautulli, ctx, active, known, guids, track)


def _history_read(client: TautulliClient, job: _Import, since: date | None) -> date | None:
    """Store every play from `since` (or the oldest play) to today; returns the first day."""
    since = since or history_oldest_day(client)
    if since is None:
        return None
    until = timezone.now().astimezone(UTC).date() + timedelta(days=1)  # clock-skew margin
    batches = history_batches(client, since=since, until=until)
    for batch in prefetched(batches, depth=PREFETCH_PAGES):
        job.store(batch.rows)
        _progress(client, job, done=batch.days_done, total=batch.days_total, label=f"{batch.up_to}")
    return since


def _progress(client: TautulliClient, job: _Import, *, done: int, total: int, label: str) -> None:
    job.ctx.progress(
        progress_done=min(done, total),
        progress_total=total,
        progress_label=f"history up to {label}",
        rows_fetched=job.rows_fetched,
        pages_fetched=job.pages,
        requests_made=client.requests_made,
        unmatched=job.unmatched,
    )


def _start_day(ctx: RunContext, *, full: bool, days_back: int | None) -> date | None:
    """Where to start reading: a day before the newest play seen so far, unless `full`."""
    newest = ctx.previous_cursor().get("newest_started")
    if not full and newest is not None:
        return utc_day(newest) - timedelta(days=1)
    if days_back is not None:
        return timezone.now().astimezone(UTC).date() - timedelta(days=days_back)
    return None


def tautulli_history_sync(
    *,
    tautulli: TautulliServer,
    full: bool = False,
    days_back: int | None = None,
    trigger: str = "",
    on_progress: ProgressCallback | None = None,
) -> SyncRun:
    """Import the server's watch history and refresh item statistics now; returns the run.

    Raises SyncAlreadyRunning; every other failure ends the run as failed with the reason.
    """
    return run_now(
        kind=SyncRun.Kind.TAUTULLI,
        target=tautulli,
        trigger=trigger,
        inputs={"full": full, "days_back": days_back},
        on_progress=on_progress,
    )


def tautulli_sync_work(ctx: RunContext) -> None:
    """The work of a Tautulli history run (syncing.kinds).

    Incremental unless `full` (or nothing succeeded before). A failure leaves item
    statistics untouched: they are recomputed only after every window was read.
    """
    tautulli: TautulliServer = ctx.target
    full, days_back = bool(ctx.inputs.get("full")), ctx.inputs.get("days_back")
    previous_newest = ctx.previous_cursor().get("newest_started")
    rebuild = full or previous_newest is None
    job = _new_import(tautulli, ctx, track=not rebuild)
    plays = Play.objects.filter(tautulli=tautulli)
    before = plays.count()
    since = _start_day(ctx, full=full, days_back=days_back)
    clock = _Phases()
    with bulk_cache(), tautulli_client_for(tautulli) as client:
        try:
            since = _history_read(client, job, since)
            users = client.users()
        finally:
            ctx.progress(requests_made=client.requests_made, unmatched=job.unmatched)
        clock.lap("read")
        items_updated = _stats_apply(job, rebuild=rebuild, users=users)
        clock.lap("stats")
    ctx.run.details = {"since": since.isoformat() if since else None, **clock.figures()}
    newest = max(filter(None, [job.newest_started, previous_newest]), default=None)
    ctx.cursor = {"newest_started": newest}
    ctx.progress(items_updated=items_updated, rows_created=plays.count() - before)


@transaction.atomic
def _stats_apply(job: _Import, *, rebuild: bool, users: list[UserRow]) -> int:
    """Recompute statistics (all items, or the touched ones), the users and their per-item
    rollup, and stamp the whole server.

    Under the server's media_items write lock: a Plex sync's pages wait for it, never
    deadlock with it.
    """
    tautulli = job.tautulli
    media_items_write_lock(server_id=tautulli.plex_server_id)
    bulk = job.rows_fetched >= ANALYZE_AFTER_ROWS
    if bulk:
        play_tables_analyze()
    scope = None
    if rebuild:  # the rollups first: item statistics read them
        rollups_rebuild(tautulli=tautulli)
    else:
        rollups_refresh(tautulli=tautulli, touched=job.touched)
        scope = item_stats_scope(plex_ids=job.plex_ids, guids=job.orphan_guids)
    updated = item_stats_recompute(
        tautulli_id=tautulli.pk, server_id=tautulli.plex_server_id, scope=scope
    )
    if bulk:  # the rollup's new rows, before the refresh's lookups in it (media.statistics)
        tables_analyze(UserItemStats, MediaItem)
    ignored_numbers_refresh(server_id=tautulli.plex_server_id, scope=scope)
    MediaItem.objects.filter(server_id=tautulli.plex_server_id).update(
        tautulli_synced_at=timezone.now()
    )
    tautulli_users_store(tautulli=tautulli, rows=users)
    requests_link()
    return updated


def tautulli_item_sync(*, tautulli: TautulliServer, plex_id: int) -> SyncRun:
    """Re-read one item's history and refresh its statistics now; returns the run."""
    return run_now(
        kind=SyncRun.Kind.TAUTULLI_ITEM,
        target=tautulli,
        trigger="webhook",
        inputs={"plex_id": plex_id},
    )


def tautulli_item_sync_work(ctx: RunContext) -> None:
    """The work of a one-item run (the play-stopped webhook): one cheap `rating_key=` query."""
    tautulli: TautulliServer = ctx.target
    plex_id = int(ctx.inputs["plex_id"])
    job = _new_import(tautulli, ctx)
    with tautulli_client_for(tautulli) as client:
        start, size = 0, page_size()
        while True:
            page = client.history_page(start=start, length=size, plex_id=plex_id)
            job.store(page.rows)
            start += page.raw_count
            if page.raw_count < size or start >= page.records_filtered:
                break
        requests_made = client.requests_made
    with transaction.atomic():
        media_items_write_lock(server_id=tautulli.plex_server_id)
        rollups_refresh(tautulli=tautulli, touched=job.touched)  # first: item statistics read it
        scope = Q(plex_id=plex_id) | Q(guid__in=sorted(job.orphan_guids))
        updated = item_stats_recompute(
            tautulli_id=tautulli.pk, server_id=tautulli.plex_server_id, scope=scope
        )
        ignored_numbers_refresh(server_id=tautulli.plex_server_id, scope=scope)
    ctx.progress(
        rows_fetched=job.rows_fetched,
        pages_fetched=job.pages,
        requests_made=requests_made,
        items_updated=updated,
    )
