"""Links stored Seerr requests to the library and to Tautulli's users.

Run after every Seerr sync and every Tautulli sync (whichever learns something new): a
request is linked to the movie (TMDB id) or show (TVDB id) it asked for, and to the
Tautulli user who asked: same Plex username, else same e-mail (case-insensitive), preferring
a Tautulli server of the same Plex server. Bulk reads, one bulk update.
"""

from __future__ import annotations

from media.models import MediaItem
from syncing.models import SeerrRequest, TautulliUser

ItemKey = tuple[int, int]  # (server id, plex id)


def _items_by_external_id() -> dict[tuple[str, str], ItemKey]:
    """("movie", tmdb id) / ("tv", tvdb id) → the live movie or show carrying it."""
    found: dict[tuple[str, str], ItemKey] = {}
    rows = MediaItem.objects.filter(
        type__in=[MediaItem.MediaType.MOVIE, MediaItem.MediaType.SHOW], removed_at__isnull=True
    ).values_list("type", "tmdb_id", "tvdb_id", "server_id", "plex_id")
    for kind, tmdb, tvdb, server_id, plex_id in rows.order_by("pk"):
        if kind == MediaItem.MediaType.MOVIE and tmdb:
            found.setdefault(("movie", tmdb), (server_id, plex_id))
        elif kind == MediaItem.MediaType.SHOW and tvdb:
            found.setdefault(("tv", tvdb), (server_id, plex_id))
    return found


def _user_index() -> dict[tuple[str, str], list[TautulliUser]]:
    """("name" | "email", lower-cased value) → users, those of enabled servers first."""
    index: dict[tuple[str, str], list[TautulliUser]] = {}
    users = TautulliUser.objects.select_related("tautulli").order_by(
        "-tautulli__enabled", "-is_active", "pk"
    )
    for user in users:
        if user.username:
            index.setdefault(("name", user.username.lower()), []).append(user)
        if user.email:
            index.setdefault(("email", user.email.lower()), []).append(user)
    return index


def _requester(request: SeerrRequest, index: dict, server_id: int | None) -> int | None:
    keys = [
        ("name", request.requester_plex_username.lower()),
        ("email", request.requester_email.lower()),
    ]
    for key in keys:
        if not key[1]:
            continue
        users = index.get(key, [])
        same = [u for u in users if u.tautulli.plex_server_id == server_id]
        if chosen := (same or users):
            return chosen[0].pk
    return None


def requests_link() -> int:
    """Refresh every request's library and user links; returns how many changed."""
    items, users = _items_by_external_id(), _user_index()
    changed = []
    for request in SeerrRequest.objects.all():
        external = request.tmdb_id if request.media_type == "movie" else request.tvdb_id
        server_id, plex_id = items.get((request.media_type, str(external)), (None, None))
        user_id = _requester(request, users, server_id)
        new = (server_id, plex_id, user_id)
        if new != (request.server_id, request.plex_id, request.tautulli_user_id):
            request.server_id, request.plex_id, request.tautulli_user_id = new
            changed.append(request)
    SeerrRequest.objects.bulk_update(
        changed, ["server", "plex_id", "tautulli_user"], batch_size=500
    )
    return len(changed)
