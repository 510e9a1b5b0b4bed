"""Targeted refresh of a few Plex items (what `plex_events` does with a batch of events).

Items named by Plex's notifications are read back in bulk (`/library/metadata/1,2,3`, a
hundred keys per request) and stored with the same upsert as the full sync; a show or
season also brings its seasons and episodes. An item whose deletion was announced is
marked gone only when Plex confirms it: it is missing from the answer (a 404 when none of
the keys exists). An item that is merely missing after an "updated" event is left alone:
the full sync is the reconciliation.
"""

from __future__ import annotations

import logging
from contextlib import closing
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from media.models import LibrarySection, MediaItem, PlexServer
from syncing.clients.plex import PlexClient, PlexItem
from syncing.models import SyncRun
from syncing.runs import RunContext, SyncAlreadyRunning, run_now
from syncing.services.plex_events import Batch
from syncing.services.plex_items import media_items_upsert_page
from syncing.services.plex_sync import plex_client_for
from syncing.services.upserts import WriteCounts
from syncing.services.webhooks import webhook_item_sync_enqueue

logger = logging.getLogger(__name__)
DETAILS_CHUNK = 100


@dataclass
class RefreshResult(WriteCounts):
    gone: int = 0
    seen: int = 0
    skipped: int = 0  # items of sections SmartPlex does not mirror (excluded or unknown)
    gone_keys: list[int] = field(default_factory=list)


def plex_items_refresh(
    *, server: PlexServer, client: PlexClient, refresh: list[int], delete: list[int]
) -> RefreshResult:
    """Re-read `refresh` and `delete` keys from Plex; store what exists, mark the
    confirmed deletions gone (with everything below them)."""
    wanted = list(dict.fromkeys([*refresh, *delete]))
    found = client.fetch_items(wanted, chunk=DETAILS_CHUNK)
    items = list(found.values())
    for item in list(items):
        if item.type in ("show", "season"):
            items += client.descendants(item.plex_id, item.type)
    result = RefreshResult()
    _store(server=server, items=items, result=result)
    confirmed = [key for key in dict.fromkeys(delete) if key not in found]
    result.gone = media_items_mark_gone_keys(server=server, plex_ids=confirmed)
    result.gone_keys = confirmed
    return result


def _store(*, server: PlexServer, items: list[PlexItem], result: RefreshResult) -> None:
    """Upsert items grouped by their section (one bulk upsert per section)."""
    sections = {
        s.key: s
        for s in LibrarySection.objects.filter(server=server, included=True, removed_at=None)
    }
    by_section: dict[str, dict[int, PlexItem]] = {}
    for item in items:
        section = sections.get(str(item.section_key))
        if section is None:
            result.skipped += 1
            continue
        by_section.setdefault(section.key, {})[item.plex_id] = item
    stamp = timezone.now()
    for key, section_items in by_section.items():
        created, updated = media_items_upsert_page(
            server=server, section=sections[key], items=list(section_items.values()), stamp=stamp
        )
        result.created += created
        result.updated += updated
        result.seen += len(section_items)


def media_items_mark_gone_keys(*, server: PlexServer, plex_ids: list[int]) -> int:
    """Mark items Plex confirmed deleted (and their seasons/episodes) gone; returns how many."""
    if not plex_ids:
        return 0
    now = timezone.now()
    below = (
        Q(plex_id__in=plex_ids)
        | Q(parent_plex_id__in=plex_ids)
        | Q(grandparent_plex_id__in=plex_ids)
    )
    return (
        MediaItem.objects.filter(server=server, removed_at__isnull=True)
        .filter(below)
        .update(removed_at=now, updated_at=now)
    )


def plex_events_apply(server: PlexServer, batch: Batch) -> Batch | None:
    """Apply one batch of events: "stopped" plays queue the Tautulli item sync (the
    webhook's path); refreshes and deletions are one `plex_events` run. Returns what must
    wait because a full or light sync holds the Plex lock (None when all is applied)."""
    for plex_id in batch.stopped:
        webhook_item_sync_enqueue(plex_id=plex_id)
    if not (batch.refresh or batch.delete):
        return None
    inputs = {"refresh": batch.refresh, "delete": batch.delete}
    try:
        run_now(kind=SyncRun.Kind.PLEX_EVENTS, target=server, trigger="plex_events", inputs=inputs)
    except SyncAlreadyRunning as exc:
        logger.info("plex_events: %d changes on %s wait: %s", len(batch), server.name, exc)
        return Batch(refresh=batch.refresh, delete=batch.delete)
    return None


def plex_events_work(ctx: RunContext) -> None:
    """The work of a `plex_events` run: refresh and confirm the batch's items."""
    server: PlexServer = ctx.target
    with closing(plex_client_for(server)) as client:
        result = plex_items_refresh(
            server=server,
            client=client,
            refresh=list(ctx.inputs.get("refresh") or []),
            delete=list(ctx.inputs.get("delete") or []),
        )
        ctx.run.details = {"gone": result.gone_keys[:200], "skipped": result.skipped}
        counts = {
            "items_seen": result.seen,
            "items_created": result.created,
            "items_updated": result.updated,
            "items_gone": result.gone,
        }
        ctx.progress(**counts, progress_done=result.seen, requests_made=client.requests_made)
