"""Plex library sync: mirror every movie, show, season and episode into media_items.

One run per server. Sections are discovered first; each included movie/show section is
then read a page at a time (settings.PLEX_PAGE_SIZE items per request) and each page is
written in bulk by syncing.services.plex_items (three statements per page, whatever its
size). The statistics columns are never written here: they belong to the Tautulli sync.

Safety: items are marked gone only at the end of a run in which EVERY scan completed
without error (an item of a scanned section that was not seen, or an item of a section
that left the server). A failed or interrupted run marks nothing gone, so rows and their
statistics survive any Plex outage. Rows already written by a failed run are kept: they
are correct data.
"""

from __future__ import annotations

import logging
from contextlib import closing
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from media.models import LibrarySection, MediaItem, PlexServer
from media.statistics import tables_analyze
from syncing.clients.plex import PlexClient, PlexSection
from syncing.models import SyncRun
from syncing.runs import ProgressCallback, RunContext, run_now
from syncing.services.plex_items import (
    media_items_analyze,
    media_items_mark_gone,
    media_items_upsert_page,
)

logger = logging.getLogger(__name__)

# Which Plex types a section of each kind holds, in the order they are read.
SECTION_MEDIA_TYPES = {
    LibrarySection.SectionType.MOVIE: ("movie",),
    LibrarySection.SectionType.SHOW: ("show", "season", "episode"),
}


def plex_client_for(server: PlexServer) -> PlexClient:
    """The one way to get a client for a server record (URL, token, configured timeout)."""
    return PlexClient(server.base_url, server.token, timeout=settings.PLEX_TIMEOUT)


def plex_library_sync(
    *, server: PlexServer, trigger: str = "", on_progress: ProgressCallback | None = None
) -> SyncRun:
    """Mirror one server's included sections now; returns the finished SyncRun.

    Raises SyncAlreadyRunning if this server's Plex sync is queued or running; every other
    failure ends in a failed SyncRun with a one-line reason.
    """
    return run_now(kind=SyncRun.Kind.PLEX, target=server, trigger=trigger, on_progress=on_progress)


def plex_sync_work(ctx: RunContext) -> None:
    """The work of a Plex run (syncing.kinds): every section, then the gone marks."""
    server: PlexServer = ctx.target
    with closing(plex_client_for(server)) as client:
        tracker = _Tracker(ctx=ctx, client=client)
        try:
            _server_sync(server=server, client=client, tracker=tracker)
        finally:
            tracker.save()


@dataclass
class _Tracker:
    """Counters of one run, written to its SyncRun row after every page (one UPDATE)."""

    ctx: RunContext
    client: PlexClient
    done: int = 0
    pages: int = 0
    created: int = 0
    updated: int = 0
    gone: int = 0
    analyzed: bool = False

    def save(self, **extra) -> None:
        self.ctx.progress(
            progress_done=self.done,
            pages_fetched=self.pages,
            requests_made=self.client.requests_made,
            items_seen=self.done,
            items_created=self.created,
            items_updated=self.updated,
            items_gone=self.gone,
            **extra,
        )


def _server_sync(*, server: PlexServer, client: PlexClient, tracker: _Tracker) -> None:
    stamp = timezone.now()
    info = client.server_info()
    if info.machine_identifier and info.machine_identifier != server.machine_identifier:
        server.machine_identifier = info.machine_identifier
        PlexServer.objects.filter(pk=server.pk).update(machine_identifier=info.machine_identifier)
    sections = plex_sections_sync(server=server, found=client.sections())
    scanned = [s for s in sections if s.included]
    plan = [(s, t) for s in scanned for t in SECTION_MEDIA_TYPES[s.section_type]]
    total = sum(client.count_items(s.key, t) for s, t in plan)
    tracker.save(progress_total=total, progress_label="Scanning")
    for section in scanned:
        _section_scan(server=server, section=section, client=client, tracker=tracker, stamp=stamp)
    # Reached only when every scan completed: now absence means the item left Plex.
    tracker.gone = media_items_mark_gone(
        server=server, scanned=scanned, present=sections, seen_since=stamp
    )
    if tracker.created:  # the run's new rows, in the pages' statistics (media.statistics)
        tables_analyze(MediaItem)


def plex_sections_sync(*, server: PlexServer, found: list[PlexSection]) -> list[LibrarySection]:
    """Upsert the server's movie/show sections (a reappearing one is present again).

    New sections are included by default; an admin's include/exclude choice is kept.
    Sections that left the server are flagged by media_items_mark_gone at the end of a
    successful run.
    """
    current = []
    for plex_section in found:
        if plex_section.type not in SECTION_MEDIA_TYPES:
            continue
        section, _ = LibrarySection.objects.update_or_create(
            server=server,
            key=plex_section.key,
            defaults={
                "title": plex_section.title[:200],
                "section_type": plex_section.type,
                "removed_at": None,
            },
        )
        current.append(section)
    return current


def _section_scan(
    *, server: PlexServer, section: LibrarySection, client: PlexClient, tracker: _Tracker, stamp
) -> None:
    """Read and store every item of a section, a page at a time."""
    for media_type in SECTION_MEDIA_TYPES[section.section_type]:
        label = f"{section.title}: {media_type}s"
        pages = client.iter_pages(section.key, media_type, page_size=settings.PLEX_PAGE_SIZE)
        for page in pages:
            created, updated = media_items_upsert_page(
                server=server, section=section, items=page.items, stamp=stamp
            )
            if created and not tracker.analyzed:
                media_items_analyze()  # once a run: new rows may leave the planner blind
                tracker.analyzed = True
            tracker.done += len(page.items)
            tracker.pages += 1
            tracker.created += created
            tracker.updated += updated
            tracker.save(progress_label=label)
