"""The light Plex sync (`sync_plex --changed`, every PLEX_CHANGES_MINUTES): only what changed.

Per included section and type, Plex lists just the items added or updated since the
last successful light run started (its cursor), minus PLEX_CHANGES_OVERLAP_SECONDS for
clock skew and for items Plex was still processing then; before any light run, since the
last successful full sync started; before either, everything. With 100 changes in a 110k
library that is one request per listing. Items are stored with the full sync's upsert;
nothing is ever marked gone here (absence from a filtered listing proves nothing): the
full sync stays the reconciliation. Both kinds share the "plex" lock, so a light run
never runs alongside a full one.
"""

from __future__ import annotations

import logging
from contextlib import closing
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from media.models import LibrarySection, PlexServer
from syncing.clients.plex import PlexClient
from syncing.models import SyncRun
from syncing.runs import RunContext, SyncAlreadyRunning, run_now
from syncing.selectors import plex_servers_for_sync
from syncing.services.connections import connections_sync_from_env
from syncing.services.plex_items import media_items_upsert_page
from syncing.services.plex_sync import (
    SECTION_MEDIA_TYPES,
    plex_client_for,
    plex_sections_sync,
)

logger = logging.getLogger(__name__)


def plex_changes_since(server: PlexServer, cursor: dict) -> int:
    """Epoch seconds to list changes after: the newer of the last light run's start and
    the last full sync's start, minus the overlap (0 when neither ever succeeded)."""
    starts = [int(cursor["started"])] if cursor.get("started") else []
    full = (
        SyncRun.objects.filter(
            kind=SyncRun.Kind.PLEX, status=SyncRun.Status.SUCCESS, plex_server=server
        )
        .order_by("-finished_at")
        .values_list("started_at", flat=True)
        .first()
    )
    if full is not None:
        starts.append(int(full.timestamp()))
    if not starts:
        return 0
    return max(max(starts) - settings.PLEX_CHANGES_OVERLAP_SECONDS, 0)


def plex_changes_work(ctx: RunContext) -> None:
    """The work of a light run (syncing.kinds "plex_changes")."""
    server: PlexServer = ctx.target
    started = timezone.now()
    since = plex_changes_since(server, ctx.previous_cursor())
    with closing(plex_client_for(server)) as client:
        sections = [
            s for s in plex_sections_sync(server=server, found=client.sections()) if s.included
        ]
        report = {"since": since, "sections": {}}
        ctx.run.details = report
        counts = {"items_seen": 0, "items_created": 0, "items_updated": 0, "pages_fetched": 0}
        for section in sections:
            before = client.requests_made
            seen = _section_changes(server, section, client, since, started, counts)
            report["sections"][section.title] = {
                "requests": client.requests_made - before,
                "items": seen,
            }
            ctx.progress(
                **counts,
                progress_done=counts["items_seen"],
                requests_made=client.requests_made,
                progress_label=f"{section.title}: changes",
            )
    ctx.cursor = {"started": int(started.timestamp())}


def _section_changes(
    server: PlexServer,
    section: LibrarySection,
    client: PlexClient,
    since: int,
    stamp: datetime,
    counts: dict,
) -> int:
    """Store one section's changed items; returns how many were listed."""
    seen = 0
    for media_type in SECTION_MEDIA_TYPES[section.section_type]:
        pages = client.iter_changed(
            section.key, media_type, since=since, page_size=settings.PLEX_PAGE_SIZE
        )
        for page in pages:
            created, updated = media_items_upsert_page(
                server=server, section=section, items=page.items, stamp=stamp
            )
            seen += len(page.items)
            counts["items_created"] += created
            counts["items_updated"] += updated
            counts["pages_fetched"] += 1
    counts["items_seen"] += seen
    return seen


def plex_changes_run(*, server: PlexServer, trigger: str = "", on_progress=None) -> SyncRun:
    """One light sync now; raises SyncAlreadyRunning while a full (or light) one runs."""
    return run_now(
        kind=SyncRun.Kind.PLEX_CHANGES, target=server, trigger=trigger, on_progress=on_progress
    )


def plex_changes_all(*, trigger: str = "schedule") -> list[SyncRun]:
    """A light sync of every enabled server; a server whose Plex lock is held is skipped
    with a message naming the run that holds it."""
    connections_sync_from_env()
    runs = []
    for server in plex_servers_for_sync():
        try:
            runs.append(plex_changes_run(server=server, trigger=trigger))
        except SyncAlreadyRunning as exc:
            logger.info("Light Plex sync of %s skipped: %s", server.name, exc)
    return runs
