"""Seerr sync: every request (who asked for what, when, which seasons) into seerr_requests.

Everything is read first and written in one transaction after, so a failure (Seerr down,
wrong key, a bad page) leaves the stored requests exactly as they were. Requests Seerr no
longer lists are removed; the rest are linked to the library and to Tautulli's users.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import transaction

from syncing.clients.seerr import RequestRow, SeerrClient, SeerrUserRow
from syncing.models import SeerrRequest, SeerrServer, SyncRun
from syncing.runs import ProgressCallback, RunContext, run_now
from syncing.services.requests_link import requests_link
from syncing.services.upserts import WriteCounts, row_stage

_FIELDS = [
    "media_type", "tmdb_id", "tvdb_id", "seasons", "status", "requested_at",
    "requester_seerr_id", "requester_plex_username", "requester_username", "requester_email",
]  # fmt: skip


@dataclass
class SeerrSyncResult(WriteCounts):
    fetched: int = 0
    removed: int = 0


def seerr_client_for(seerr: SeerrServer) -> SeerrClient:
    return SeerrClient(
        seerr.base_url, seerr.api_key, timeout=getattr(settings, "SEERR_TIMEOUT", 30.0)
    )


def _values(row: RequestRow, users: dict[int, SeerrUserRow]) -> dict:
    who = users.get(row.requester.id) or row.requester
    return {
        "media_type": row.media_type,
        "tmdb_id": row.tmdb_id,
        "tvdb_id": row.tvdb_id,
        "seasons": row.seasons,
        "status": row.status,
        "requested_at": row.created_at,
        "requester_seerr_id": who.id,
        "requester_plex_username": (who.plex_username or row.requester.plex_username)[:200],
        "requester_username": (who.username or row.requester.username)[:200],
        "requester_email": (who.email or row.requester.email)[:300],
    }


@transaction.atomic
def seerr_requests_store(
    *, seerr: SeerrServer, rows: list[RequestRow], users: list[SeerrUserRow]
) -> SeerrSyncResult:
    """Make the stored requests of `seerr` exactly `rows`, then refresh their links."""
    by_id = {u.id: u for u in users if u.id is not None}
    existing = {r.request_id: r for r in SeerrRequest.objects.filter(seerr=seerr)}
    result, new, changed = SeerrSyncResult(fetched=len(rows)), [], []
    for row in rows:
        values = _values(row, by_id)
        make = partial(SeerrRequest, seerr=seerr, request_id=row.id)
        row_stage(existing=existing, key=row.id, values=values, make=make, new=new, changed=changed)
    SeerrRequest.objects.bulk_create(new, batch_size=500)
    SeerrRequest.objects.bulk_update(changed, _FIELDS, batch_size=500)
    SeerrRequest.objects.filter(pk__in=[r.pk for r in existing.values()]).delete()
    result.created, result.updated, result.removed = len(new), len(changed), len(existing)
    requests_link()
    return result


def seerr_sync(
    *, seerr: SeerrServer, trigger: str = "", on_progress: ProgressCallback | None = None
) -> SyncRun:
    """Read every request of one Seerr server now; returns the run (failed with the reason
    when Seerr is down or refuses the key). Raises SyncAlreadyRunning."""
    return run_now(kind=SyncRun.Kind.SEERR, target=seerr, trigger=trigger, on_progress=on_progress)


def seerr_sync_work(ctx: RunContext) -> None:
    """The work of a Seerr run (syncing.kinds): read everything, then store it at once."""
    seerr: SeerrServer = ctx.target
    with seerr_client_for(seerr) as client:
        try:
            rows = client.requests()
            ctx.progress(rows_fetched=len(rows), progress_label="requests read")
            users = client.users()
        finally:
            ctx.progress(requests_made=client.requests_made)
    result = seerr_requests_store(seerr=seerr, rows=rows, users=users)
    unlinked = SeerrRequest.objects.filter(seerr=seerr, plex_id__isnull=True).count()
    ctx.run.details = {"removed": result.removed, "not_in_library": unlinked}
    ctx.progress(
        rows_created=result.created,
        items_updated=result.updated,
        items_gone=result.removed,
        unmatched=unlinked,
    )


def seerr_connection_test(*, seerr: SeerrServer) -> str:
    """One line for the admin: version and request count, or raises SeerrError."""
    with seerr_client_for(seerr) as client:
        version = client.check()
    return f"{seerr.name}: connected (Seerr {version or 'unknown version'})."
