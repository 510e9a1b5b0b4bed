"""The "Leaving soon" collection in Plex: one per library section, holding the groups that
are approved and not yet executed (leaving soon or due).

Movies go in as themselves; in a TV section a show, season or episode group puts its
show in the collection (a Plex collection holds one type; the summary says exactly what
leaves and when). Kept by difference, keyed by the ratingKey stored in LeavingCollection,
re-created when someone deleted it in Plex, never touching any other collection; title,
sort title (first in the list) and Home visibility follow the settings. Called as a task
after every approval, cancel, execution and sync (deletion.announce.leaving_changed).
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from deletion.config import DeletionSettings, deletion_settings_get
from deletion.lifecycle import requests_waiting
from deletion.models import DeletionRequest, LeavingCollection, Level
from media.models import LibrarySection, MediaItem
from syncing.clients.plex import PlexClient, PlexError
from syncing.services.plex_sync import plex_client_for

logger = logging.getLogger(__name__)
SUMMARY_LINES = 40

Entry = tuple[DeletionRequest, int]  # the request and the ratingKey it puts in the collection


def _item_key(r: DeletionRequest) -> int:
    return r.plex_id if r.level in (Level.MOVIE, Level.SHOW) else r.show_plex_id or r.plex_id


def leaving_entries_by_section() -> dict[int, list[Entry]]:
    """Section id → the waiting groups in it (two queries whatever the count)."""
    waiting = list(requests_waiting().order_by("leave_at", "title"))
    wanted = {(r.server_id, _item_key(r)) for r in waiting}
    if not wanted:
        return {}
    q = Q()
    for server_id in {s for s, _ in wanted}:
        q |= Q(server_id=server_id, plex_id__in=[k for s, k in wanted if s == server_id])
    rows = MediaItem.objects.filter(q, type__in=("movie", "show")).values_list(
        "server_id", "plex_id", "section_id"
    )
    section_of = {(s, k): sec for s, k, sec in rows if sec is not None}
    result: dict[int, list[Entry]] = defaultdict(list)
    for r in waiting:
        key = _item_key(r)
        if (section := section_of.get((r.server_id, key))) is not None:
            result[section].append((r, key))
    return dict(result)


def collection_summary(entries: list[Entry]) -> str:
    lines = [f"{r.title} — leaves {timezone.localtime(r.leave_at):%a %d %b}" for r, _ in entries]
    more = [f"… and {len(lines) - SUMMARY_LINES} more"] if len(lines) > SUMMARY_LINES else []
    head = "Leaving soon: watch them before they go, or ask for them to be kept."
    return "\n".join([head, *lines[:SUMMARY_LINES], *more])


def leaving_collections_update() -> list[str]:
    """Bring every section's collection in line with the queue; one line per section."""
    config = deletion_settings_get()
    entries = leaving_entries_by_section()
    known = set(LeavingCollection.objects.values_list("section_id", flat=True))
    sections = LibrarySection.objects.filter(
        pk__in=set(entries) | known, removed_at__isnull=True, server__enabled=True
    ).select_related("server")
    by_server: dict[int, list[LibrarySection]] = defaultdict(list)
    for section in sections:
        by_server[section.server_id].append(section)
    outcomes = []
    for server_sections in by_server.values():
        client = plex_client_for(server_sections[0].server)
        try:
            for section in server_sections:
                outcomes.append(
                    _section_update(client, section, entries.get(section.pk, []), config)
                )
        finally:
            client.close()
    return outcomes


def _section_update(
    client: PlexClient, section: LibrarySection, entries: list[Entry], config: DeletionSettings
) -> str:
    row, _ = LeavingCollection.objects.get_or_create(section=section)
    keys = list(dict.fromkeys(key for _, key in entries))
    try:
        change = client.collection_keep(
            section_key=section.key,
            key=row.plex_key,
            title=config.collection_title,
            item_keys=keys,
            summary=collection_summary(entries),
            sort_title=f"!!! {config.collection_title}",
            visible=config.collection_visible,
        )
    except PlexError as exc:
        logger.warning("Leaving-soon collection of %s not updated: %s", section, exc)
        LeavingCollection.objects.filter(pk=row.pk).update(error=str(exc))
        return f"{section}: {exc}"
    fields = {"items": len(keys), "updated_at": timezone.now(), "error": ""}
    if change is not None:
        fields["plex_key"] = change.key
    LeavingCollection.objects.filter(pk=row.pk).update(**fields)
    return f"{section}: {len(keys)} item(s)" + (
        " (re-created)" if change and change.created and row.plex_key else ""
    )
