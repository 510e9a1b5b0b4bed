"""Plex library sync: mirror every movie, show, season and episode into media_items.

One run per server. Sections are discovered first; each included movie/show section is
then read a page at a time (settings.PLEX_PAGE_SIZE items per request) and each page is
written with one SELECT (to tell new, changed and unchanged rows apart), one bulk upsert
keyed on (server, plex_id) for new/changed rows and one UPDATE stamping the unchanged
ones. The statistics columns are never written here: they belong to the Tautulli sync.

Safety: items are marked gone only at the end of a run in which EVERY scan completed
without error (an item of a scanned section that was not seen, or an item of a section
that left the server). A failed or interrupted run marks nothing gone, so rows and their
statistics survive any Plex outage. Rows already written by a failed run are kept: they
are correct data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from media.models import LibrarySection, MediaItem, PlexServer
from syncing.clients.plex import PlexClient, PlexError, PlexItem, PlexSection
from syncing.models import SyncRun
from syncing.runs import SyncAlreadyRunning, sync_run_finish, sync_run_progress, sync_run_start

logger = logging.getLogger(__name__)

# Which Plex types a section of each kind holds, in the order they are read.
SECTION_MEDIA_TYPES = {
    LibrarySection.SectionType.MOVIE: ("movie",),
    LibrarySection.SectionType.SHOW: ("show", "season", "episode"),
}
# Columns the Plex sync owns. Statistics (total_play_count, last_watched_at,
# total_watch_time_seconds, tautulli_synced_at) are deliberately absent.
PLEX_FIELDS = (
    "section_id",
    "guid",
    "title",
    "year",
    "type",
    "tmdb_id",
    "tvdb_id",
    "imdb_id",
    "file_path",
    "file_size_bytes",
    "added_at",
    "parent_title",
    "grandparent_title",
    "season_number",
    "episode_number",
    "parent_plex_id",
    "grandparent_plex_id",
    "plex_updated_at",
    "removed_at",
)
UPSERT_UPDATE_FIELDS = [f.removesuffix("_id") if f == "section_id" else f for f in PLEX_FIELDS]
UPSERT_UPDATE_FIELDS += ["plex_synced_at", "updated_at"]

ProgressCallback = Callable[[SyncRun], None]


def plex_client_for(*, server: PlexServer) -> PlexClient:
    """The client for a server record (URL, token and the configured timeout)."""
    return PlexClient(server.base_url, server.token, timeout=settings.PLEX_TIMEOUT)


def plex_servers_for_sync(*, name: str | None = None) -> list[PlexServer]:
    """Every enabled server, or the one named (enabled or not: naming it is explicit)."""
    if name:
        return [PlexServer.objects.get(name=name)]
    return list(PlexServer.objects.filter(enabled=True).order_by("name"))


def plex_sync_all(
    *, trigger: str = "", on_progress: ProgressCallback | None = None
) -> list[SyncRun]:
    """Sync every enabled server; one failing (or already running) doesn't stop the rest."""
    runs = []
    for server in plex_servers_for_sync():
        try:
            runs.append(plex_library_sync(server=server, trigger=trigger, on_progress=on_progress))
        except SyncAlreadyRunning as exc:
            logger.warning("Plex sync of %s skipped: %s", server.name, exc)
    return runs


def plex_library_sync(
    *, server: PlexServer, trigger: str = "", on_progress: ProgressCallback | None = None
) -> SyncRun:
    """Mirror one server's included sections; returns the finished SyncRun.

    Raises SyncAlreadyRunning if this server's Plex sync is running; every other failure
    ends in a failed SyncRun carrying a one-line reason.
    """
    run = sync_run_start(
        kind=SyncRun.Kind.PLEX,
        plex_server=server,
        trigger=trigger,
        options={"page_size": settings.PLEX_PAGE_SIZE},
    )
    client = plex_client_for(server=server)
    tracker = _Tracker(run=run, client=client, on_progress=on_progress)
    try:
        _server_sync(server=server, client=client, tracker=tracker)
    except PlexError as exc:
        logger.warning("Plex sync of %s failed: %s", server.name, exc)
        return tracker.finish(error=str(exc))
    except Exception as exc:
        logger.exception("Plex sync of %s crashed", server.name)
        return tracker.finish(error=f"Unexpected error ({type(exc).__name__}): {exc}")
    finally:
        client.close()
    return tracker.finish()


@dataclass
class _Tracker:
    """Counters of one run, written to its SyncRun row after every page (one UPDATE)."""

    run: SyncRun
    client: PlexClient
    on_progress: ProgressCallback | None = None
    done: int = 0
    pages: int = 0
    created: int = 0
    updated: int = 0
    gone: int = 0

    def fields(self) -> dict:
        return {
            "progress_done": self.done,
            "pages_fetched": self.pages,
            "requests_made": self.client.requests_made,
            "items_seen": self.done,
            "items_created": self.created,
            "items_updated": self.updated,
            "items_gone": self.gone,
        }

    def save(self, **extra) -> None:
        sync_run_progress(self.run, **self.fields(), **extra)
        if self.on_progress is not None:
            self.on_progress(self.run)

    def finish(self, *, error: str = "") -> SyncRun:
        label = "Failed" if error else "Done"
        return sync_run_finish(self.run, error=error, progress_label=label, **self.fields())


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
            tracker.done += len(page.items)
            tracker.pages += 1
            tracker.created += created
            tracker.updated += updated
            tracker.save(progress_label=label)


@transaction.atomic
def media_items_mark_gone(
    *,
    server: PlexServer,
    scanned: list[LibrarySection],
    present: list[LibrarySection],
    seen_since,
) -> int:
    """After a complete run: flag unseen items of scanned sections, and sections (with
    their items) that left the server. Returns how many items were flagged.

    Only call this when every scan of the run succeeded: absence proves nothing otherwise.
    """
    now = timezone.now()
    vanished = LibrarySection.objects.filter(server=server, removed_at__isnull=True).exclude(
        pk__in=[s.pk for s in present]
    )
    unseen = Q(section__in=scanned) & (
        Q(plex_synced_at__lt=seen_since) | Q(plex_synced_at__isnull=True)
    )
    gone = (
        MediaItem.objects.filter(server=server, removed_at__isnull=True)
        .filter(unseen | Q(section__in=list(vanished)))
        .update(removed_at=now, updated_at=now)
    )
    vanished.update(removed_at=now)
    return gone


def _row_values(item: PlexItem, section: LibrarySection) -> tuple:
    """The PLEX_FIELDS values for an item, trimmed to the column sizes."""

    def cut(value: str | None, size: int) -> str | None:
        return value[:size] if value else None

    def non_negative(value: int | None) -> int | None:
        return value if value is not None and value >= 0 else None

    return (
        section.pk,
        (item.guid or "")[:300],
        (item.title or "")[:500],
        item.year if item.year and item.year > 0 else None,
        item.type,
        cut(item.tmdb_id, 32),
        cut(item.tvdb_id, 32),
        cut(item.imdb_id, 32),
        item.file_path or None,
        item.file_size_bytes,
        item.added_at,
        cut(item.parent_title, 500),
        cut(item.grandparent_title, 500),
        non_negative(item.season_number),
        non_negative(item.episode_number),
        item.parent_rating_key,
        item.grandparent_rating_key,
        item.updated_at,
        None,  # removed_at: an item seen now is present, even if it had left before
    )


def media_items_upsert_page(
    *, server: PlexServer, section: LibrarySection, items: list[PlexItem], stamp
) -> tuple[int, int]:
    """Store one page: returns (created, updated). Unchanged rows only get their stamp.

    Three queries whatever the page size: read the page's existing rows, upsert the new
    and changed ones in one statement, stamp the unchanged ones.
    """
    wanted = {item.rating_key: _row_values(item, section) for item in items}
    existing = {
        row[0]: row[1:]
        for row in MediaItem.objects.filter(server=server, plex_id__in=list(wanted)).values_list(
            "plex_id", *PLEX_FIELDS
        )
    }
    changed = [key for key, values in wanted.items() if existing.get(key) != values]
    unchanged = [key for key, values in wanted.items() if existing.get(key) == values]
    now = timezone.now()
    rows = [
        MediaItem(
            server=server,
            plex_id=key,
            plex_synced_at=stamp,
            updated_at=now,
            **dict(zip(PLEX_FIELDS, wanted[key], strict=True)),
        )
        for key in changed
    ]
    with transaction.atomic():
        if rows:
            MediaItem.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["server", "plex_id"],
                update_fields=UPSERT_UPDATE_FIELDS,
            )
        if unchanged:
            MediaItem.objects.filter(server=server, plex_id__in=unchanged).update(
                plex_synced_at=stamp
            )
    created = sum(1 for key in changed if key not in existing)
    return created, len(changed) - created
