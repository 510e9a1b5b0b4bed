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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from media.locks import media_items_write_lock
from media.models import MediaItem
from syncing.clients.tautulli import HistoryRow, TautulliClient, TautulliError
from syncing.models import Play, SyncRun, TautulliServer
from syncing.runs import SyncAlreadyRunning, sync_run_finish, sync_run_progress, sync_run_start
from syncing.services.tautulli_plays import plays_upsert
from syncing.services.tautulli_stats import (
    item_stats_recompute,
    item_stats_scope,
    play_tables_analyze,
)
from syncing.services.tautulli_windows import (
    history_batches,
    history_oldest_day,
    page_size,
    prefetched,
    utc_day,
)

logger = logging.getLogger(__name__)

ANALYZE_AFTER_ROWS = 10_000  # a bigger import refreshes the planner's statistics first

ProgressCallback = Callable[[SyncRun], None]


def tautulli_client_for(tautulli: TautulliServer) -> TautulliClient:
    return TautulliClient(
        tautulli.base_url,
        tautulli.api_key,
        timeout=settings.TAUTULLI_TIMEOUT,
        retries=getattr(settings, "TAUTULLI_RETRIES", 3),
        backoff=getattr(settings, "TAUTULLI_BACKOFF", 0.5),
    )


@dataclass
class _Import:
    """What one run read: counters for the SyncRun and the keys whose stats must change."""

    tautulli: TautulliServer
    run: SyncRun
    on_progress: ProgressCallback | None
    active_keys: set[int]
    known_keys: set[int]
    known_guids: set[str]
    rating_keys: set[int] = field(default_factory=set)
    orphan_guids: set[str] = field(default_factory=set)
    newest_started: int | None = None
    rows_fetched: int = 0
    unmatched: int = 0
    pages: int = 0

    def store(self, rows: list[HistoryRow]) -> None:
        """Upsert one page of plays and note the items they touch."""
        plays_upsert(tautulli_id=self.tautulli.pk, rows=rows)
        for row in rows:
            key = row.rating_key
            if key is not None:
                self.rating_keys.add(key)
            if key not in self.active_keys:
                if row.guid:
                    self.orphan_guids.add(row.guid)
                if key not in self.known_keys and row.guid not in self.known_guids:
                    self.unmatched += 1
            if self.newest_started is None or row.started > self.newest_started:
                self.newest_started = row.started
        self.rows_fetched += len(rows)
        self.pages += 1


def _new_import(tautulli: TautulliServer, run: SyncRun, on_progress) -> _Import:
    items = MediaItem.objects.filter(server_id=tautulli.plex_server_id)
    active, known, guids = set(), set(), set()
    for plex_id, guid, removed_at in items.values_list("plex_id", "guid", "removed_at"):
        known.add(plex_id)
        if removed_at is None:
            active.add(plex_id)
            if guid:
                guids.add(guid)
    return _Import(tautulli, run, on_progress, active, known, guids)


def _history_read(client: TautulliClient, job: _Import, since: date | None) -> date | None:
    """Store every play from `since` (or the oldest play) to today; returns the first day."""
    since = since or history_oldest_day(client)
    if since is None:
        return None
    until = timezone.now().astimezone(UTC).date() + timedelta(days=1)  # clock-skew margin
    for batch in prefetched(history_batches(client, since=since, until=until)):
        job.store(batch.rows)
        _progress(client, job, done=batch.days_done, total=batch.days_total, label=f"{batch.up_to}")
    return since


def _progress(client: TautulliClient, job: _Import, *, done: int, total: int, label: str) -> None:
    sync_run_progress(
        job.run,
        progress_done=min(done, total),
        progress_total=total,
        progress_label=f"history up to {label}",
        rows_fetched=job.rows_fetched,
        pages_fetched=job.pages,
        requests_made=client.requests_made,
        unmatched=job.unmatched,
    )
    if job.on_progress:
        job.on_progress(job.run)


def _start_day(
    tautulli: TautulliServer, *, full: bool, days_back: int | None
) -> tuple[date | None, dict]:
    """Where to start reading, and the previous run's options (empty for a first import)."""
    previous = (
        SyncRun.objects.filter(
            kind=SyncRun.Kind.TAUTULLI, tautulli_server=tautulli, status=SyncRun.Status.SUCCESS
        )
        .order_by("-finished_at")
        .first()
    )
    last = previous.options if previous else {}
    if not full and last.get("newest_started") is not None:
        return utc_day(last["newest_started"]) - timedelta(days=1), last
    if days_back is not None:
        return timezone.now().astimezone(UTC).date() - timedelta(days=days_back), last
    return None, last


def tautulli_history_sync(
    *,
    tautulli: TautulliServer,
    full: bool = False,
    days_back: int | None = None,
    trigger: str = "",
    on_progress: ProgressCallback | None = None,
    run_id: int | None = None,
) -> SyncRun:
    """Import the server's watch history and refresh item statistics; returns the SyncRun.

    Incremental unless `full` (or nothing succeeded before). Failures end the run as failed
    with the reason; item statistics are then untouched. `run_id` adopts a run queued by
    "Sync now". Raises SyncAlreadyRunning.
    """
    options = {"full": full, "days_back": days_back}
    run = sync_run_start(
        kind=SyncRun.Kind.TAUTULLI,
        tautulli_server=tautulli,
        trigger=trigger,
        options=options,
        run_id=run_id,
    )
    job = _new_import(tautulli, run, on_progress)
    plays = Play.objects.filter(tautulli=tautulli)
    before = plays.count()
    try:
        since, previous = _start_day(tautulli, full=full, days_back=days_back)
        rebuild = full or previous.get("newest_started") is None
        clock = time.monotonic()
        with tautulli_client_for(tautulli) as client:
            since = _history_read(client, job, since)
            requests_made = client.requests_made
        read_seconds, clock = time.monotonic() - clock, time.monotonic()
        items_updated = _stats_apply(job, rebuild=rebuild)
        stats_seconds = time.monotonic() - clock
    except TautulliError as exc:
        logger.warning("Tautulli sync of %s failed: %s", tautulli.name, exc)
        return _finish(run, job, error=str(exc))
    except Exception as exc:
        logger.exception("Tautulli sync of %s failed unexpectedly", tautulli.name)
        return _finish(run, job, error=f"Unexpected error: {type(exc).__name__}: {exc}")
    newest = job.newest_started
    if newest is None or (previous.get("newest_started") or 0) > newest:
        newest = previous.get("newest_started")
    return _finish(
        run,
        job,
        items_updated=items_updated,
        rows_created=plays.count() - before,
        requests_made=requests_made,
        options={
            **options,
            "since": since.isoformat() if since else None,
            "newest_started": newest,
            "seconds": {"read": round(read_seconds, 2), "stats": round(stats_seconds, 2)},
        },
    )


def _finish(run: SyncRun, job: _Import, *, error: str = "", **fields) -> SyncRun:
    fields.setdefault("requests_made", run.requests_made)
    return sync_run_finish(
        run,
        error=error,
        rows_fetched=job.rows_fetched,
        pages_fetched=job.pages,
        unmatched=job.unmatched,
        **fields,
    )


@transaction.atomic
def _stats_apply(job: _Import, *, rebuild: bool) -> int:
    """Recompute statistics (all items, or the touched ones) and stamp the whole server.

    Under the server's media_items write lock: a Plex sync's pages wait for it, never
    deadlock with it.
    """
    tautulli = job.tautulli
    media_items_write_lock(server_id=tautulli.plex_server_id)
    if job.rows_fetched >= ANALYZE_AFTER_ROWS:
        play_tables_analyze()
    scope = None
    if not rebuild:
        scope = item_stats_scope(rating_keys=job.rating_keys, guids=job.orphan_guids)
    updated = item_stats_recompute(
        tautulli_id=tautulli.pk, server_id=tautulli.plex_server_id, scope=scope
    )
    MediaItem.objects.filter(server_id=tautulli.plex_server_id).update(
        tautulli_synced_at=timezone.now()
    )
    return updated


def tautulli_item_sync(*, tautulli: TautulliServer, rating_key: int) -> int:
    """Re-read one item's history and refresh its statistics; returns the rows read.

    Used by the play-stopped webhook: one cheap `rating_key=` query, no SyncRun.
    """
    job = _new_import(tautulli, SyncRun(), None)
    with tautulli_client_for(tautulli) as client:
        start, size = 0, page_size()
        while True:
            page = client.history_page(start=start, length=size, rating_key=rating_key)
            job.store(page.rows)
            start += page.raw_count
            if page.raw_count < size or start >= page.records_filtered:
                break
    with transaction.atomic():
        media_items_write_lock(server_id=tautulli.plex_server_id)
        item_stats_recompute(
            tautulli_id=tautulli.pk,
            server_id=tautulli.plex_server_id,
            scope=Q(plex_id=rating_key) | Q(guid__in=sorted(job.orphan_guids)),
        )
    return job.rows_fetched


def tautulli_sync_all(*, trigger: str = "") -> list[SyncRun]:
    """Incremental sync of every enabled Tautulli server; a server already syncing is skipped."""
    runs = []
    for tautulli in TautulliServer.objects.filter(enabled=True).select_related("plex_server"):
        try:
            runs.append(tautulli_history_sync(tautulli=tautulli, trigger=trigger))
        except SyncAlreadyRunning as exc:
            logger.info("Skipping %s: %s", tautulli.name, exc)
    return runs
