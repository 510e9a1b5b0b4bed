"""The last checks right before a group is removed: fresh Tautulli history, Plex sessions.

The statistics in the database are as old as the last Tautulli sync, and a play that
happened a minute after approval is only in Tautulli. So, just before removing a group,
every enabled Tautulli of its Plex server is asked for the group's newest plays (one
`get_history` filtered by the group's key: `rating_key` for a movie or an episode,
`parent_rating_key` for a season, `grandparent_rating_key` for a show). A play that
*stopped* after the approval keeps the group: Tautulli writes a row when a stream stops,
so a play started before the approval but recorded after it counts too. A Tautulli that
cannot answer keeps the group as well: unknown is never "unwatched".

What is playing right now is asked of Plex itself (Tautulli's activity call answers an
empty success when it cannot reach Plex).
"""

from __future__ import annotations

from datetime import UTC, datetime

from deletion.models import DeletionRequest, Level
from syncing.clients.plex import PlexClient
from syncing.clients.tautulli import HistoryRow, TautulliClient, TautulliError
from syncing.models import TautulliServer
from syncing.services.tautulli_sync import tautulli_client_for

# Which history filter holds a group's key, per level (Tautulli's rating_key and its parents).
HISTORY_FILTER = {
    Level.MOVIE: "plex_id",
    Level.EPISODE: "plex_id",
    Level.SEASON: "parent_plex_id",
    Level.SHOW: "grandparent_plex_id",
}
NEWEST_PLAYS = 25  # rows asked for, newest stop first: enough to count recent plays


class FreshHistory:
    """One run's Tautulli clients (per Plex server), and the servers that could not answer.

    A Tautulli that failed once in a run is not asked again for every remaining group:
    each of them is skipped with the same reason.
    """

    def __init__(self) -> None:
        self._clients: dict[int, list[tuple[TautulliServer, TautulliClient]]] = {}
        self._down: dict[int, str] = {}  # Tautulli server id → why it could not answer

    def problem(self, request: DeletionRequest) -> str:
        """Why the group must not be removed now ("" when Tautulli confirms no new play)."""
        clients = self._clients_for(request.server_id)
        if not clients:
            return "Could not confirm it is unwatched: no enabled Tautulli for its Plex server."
        for tautulli, client in clients:
            if tautulli.pk in self._down:
                return self._unconfirmed(tautulli, self._down[tautulli.pk])
            try:
                rows = _newest_plays(client, request)
            except TautulliError as exc:
                self._down[tautulli.pk] = str(exc)
                return self._unconfirmed(tautulli, str(exc))
            if why := _played_since(rows, request.approved_at):
                return why
        return ""

    def close(self) -> None:
        for pairs in self._clients.values():
            for _, client in pairs:
                client.close()

    def _clients_for(self, server_id: int) -> list[tuple[TautulliServer, TautulliClient]]:
        if server_id not in self._clients:
            servers = TautulliServer.objects.filter(plex_server_id=server_id, enabled=True)
            self._clients[server_id] = [(t, tautulli_client_for(t)) for t in servers]
        return self._clients[server_id]

    @staticmethod
    def _unconfirmed(tautulli: TautulliServer, why: str) -> str:
        return f"Could not confirm it is unwatched: {tautulli.name} did not answer ({why})."


def _newest_plays(client: TautulliClient, request: DeletionRequest) -> list[HistoryRow]:
    field = HISTORY_FILTER[request.level]
    page = client.history_page(
        start=0,
        length=NEWEST_PLAYS,
        order_column="stopped",
        order_dir="desc",
        **{field: request.plex_id},
    )
    return page.rows


def _played_since(rows: list[HistoryRow], approved_at: datetime) -> str:
    """The reason to keep the group when any row stopped after the approval."""
    cutoff = approved_at.timestamp()
    recent = [r for r in rows if (r.stopped or r.started) > cutoff]
    if not recent:
        return ""
    newest = max(recent, key=lambda r: r.stopped or r.started)
    when = datetime.fromtimestamp(newest.stopped or newest.started, UTC)
    plays = f"{len(recent)} plays" if len(recent) > 1 else "a play"
    who = f" by {newest.user}" if newest.user else ""
    return (
        f"Played since approval according to Tautulli ({plays}; latest “{newest.title}”"
        f"{who}, stopped {when:%Y-%m-%d %H:%M} UTC)."
    )


def playing_problem(request: DeletionRequest, client: PlexClient) -> str:
    """Ask Plex (not Tautulli) what is playing right now; keep the group if any of it is."""
    for session in client.sessions():
        keys = {session.plex_id, session.parent_plex_id, session.grandparent_plex_id}
        if request.plex_id in keys:
            return f"Being played right now ({session.title})."
    return ""
