"""The Seerr client (Overseerr and Jellyseerr share the API): the only module that speaks
`/api/v1` of Seerr.

The API key travels in the `X-Api-Key` header, never in a URL. Every failure — unreachable,
timeout, HTTP error, wrong key, malformed JSON, unexpected shape — becomes one `SeerrError`
with a one-line, key-free message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syncing.clients.errors import ClientError
from syncing.clients.http import ApiClient, retrying_session

API_PATH = "/api/v1"
PAGE_SIZE = 100


class SeerrError(ClientError):
    """Anything that went wrong talking to Seerr, with a clear, key-free message."""


@dataclass(frozen=True, slots=True)
class SeerrUserRow:
    """Who made a request: Seerr's own id and the names we match Tautulli users on."""

    id: int | None
    plex_username: str
    username: str
    email: str


@dataclass(frozen=True, slots=True)
class RequestRow:
    """One request: what (TMDB / TVDB id, seasons), who, when, and its status."""

    id: int
    media_type: str  # "movie" | "tv"
    tmdb_id: int | None
    tvdb_id: int | None
    seasons: list[int]
    status: int
    created_at: datetime
    requester: SeerrUserRow


def _opt_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def user_row(raw: dict[str, Any]) -> SeerrUserRow:
    """Real servers send null for names a user lacks (a local account has no plexUsername)."""
    return SeerrUserRow(
        id=_opt_int(raw.get("id")),
        plex_username=str(raw.get("plexUsername") or ""),
        username=str(raw.get("username") or raw.get("displayName") or ""),
        email=str(raw.get("email") or ""),
    )


def request_row(raw: dict[str, Any]) -> RequestRow:
    media = raw.get("media") or {}
    kind = str(raw.get("type") or media.get("mediaType") or "")
    if kind not in ("movie", "tv"):
        raise ValueError(f"request {raw.get('id')} has media type {kind!r}")
    created = datetime.fromisoformat(str(raw["createdAt"]).replace("Z", "+00:00"))
    return RequestRow(
        id=int(raw["id"]),
        media_type=kind,
        tmdb_id=_opt_int(media.get("tmdbId")),
        tvdb_id=_opt_int(media.get("tvdbId")),
        seasons=sorted(int(s["seasonNumber"]) for s in raw.get("seasons") or []),
        status=int(raw["status"]),
        created_at=created,
        requester=user_row(raw.get("requestedBy") or {}),
    )


class SeerrClient(ApiClient):
    """A session bound to one Seerr server. Use as a context manager or call close()."""

    name, error = "Seerr", SeerrError

    def __init__(
        self, base_url: str, api_key: str, *, timeout: float = 30.0, retries: int = 2
    ) -> None:
        session = retrying_session(
            retries=retries, backoff=0.3, methods={"GET"}, statuses=(502, 503, 504),
            headers={"X-Api-Key": api_key, "Accept": "application/json"},
        )  # fmt: skip
        super().__init__(base_url, api_key, timeout=timeout, session=session)

    def __repr__(self) -> str:
        return f"<SeerrClient {self.shown_url}{API_PATH}>"

    def get(self, path: str, **params: Any) -> Any:
        """GET one endpoint and return its JSON, or raise SeerrError."""
        url = f"{self.base_url}{API_PATH}{path}"
        where = f"{self.shown_url}{API_PATH}{path}"
        resp = self.send("GET", url, where=where, params=params)
        if resp.status_code in (401, 403):
            raise SeerrError(f"Seerr refused the API key (HTTP {resp.status_code}, {where})")
        if resp.status_code != 200:
            raise SeerrError(f"Seerr answered HTTP {resp.status_code} for {where}")
        return self.decoded(resp, what=where)

    def _pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every row of a paged list (`take`/`skip` to the end, by `pageInfo.results`)."""
        skip = 0
        while True:
            data = self.get(path, take=PAGE_SIZE, skip=skip, **params)
            try:
                results, total = data["results"], int(data["pageInfo"]["results"])
            except (KeyError, TypeError, ValueError):
                raise SeerrError(f"Seerr sent {path} data of an unexpected shape") from None
            yield from results
            skip += len(results)
            if not results or skip >= total:
                return

    def status(self) -> str:
        """The server's version (public endpoint)."""
        data = self.get("/status")
        return str(data.get("version", "")) if isinstance(data, dict) else ""

    def check(self) -> str:
        """Server answers and the key is accepted; returns the version."""
        version = self.status()
        self.get("/request", take=1, skip=0, filter="all")
        return version

    def requests(self) -> list[RequestRow]:
        """Every request, oldest first, whatever its status."""
        try:
            rows = [request_row(raw) for raw in self._pages("/request", filter="all", sort="added")]
        except (KeyError, TypeError, ValueError) as exc:
            detail = self._mask(str(exc))[:120]
            raise SeerrError(f"Seerr sent a request of an unexpected shape ({detail})") from None
        return sorted(rows, key=lambda r: (r.created_at, r.id))

    def users(self) -> list[SeerrUserRow]:
        try:
            return [user_row(raw) for raw in self._pages("/user")]
        except (TypeError, ValueError):
            raise SeerrError("Seerr sent a user of an unexpected shape") from None
