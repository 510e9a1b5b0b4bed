"""A Seerr (Overseerr / Jellyseerr) API simulator over real HTTP on 127.0.0.1.

Speaks the parts of `../shared/specs/seerr-api.yml` SmartPlex reads: `GET /api/v1/status`
(public), `GET /api/v1/request` (take/skip/filter/sort/sortDirection/requestedBy/mediaType,
answered as `{pageInfo, results: [MediaRequest]}`) and `GET /api/v1/user` (the same envelope
of User). Authentication is the `X-Api-Key` header; without it or with a wrong one the
server answers 403 `{"status": 403, "error": "You do not have permission to access this
endpoint"}` as Seerr's auth middleware does. Request rows carry what the real server adds
beyond the spec (`type`, `seasons`, `media.mediaType`, `requestedBy.displayName`). Faults
(HTTP status, malformed JSON, delay) can be injected; requests are counted.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulators.base import SimulatorHandler, SimulatorServer, take_fault

__all__ = ["SeerrFault", "SeerrSimulator", "SeerrUser"]

_FILTERS = {
    "all": None,
    "approved": {2},
    "pending": {1},
    "unavailable": {1, 2},
    "failed": {4},
    "processing": {2},
    "available": {2},
    "completed": {5},
    "deleted": {2},
}
_NO_PERMISSION = {"status": 403, "error": "You do not have permission to access this endpoint"}


@dataclass
class SeerrUser:
    id: int
    email: str
    plex_username: str = ""  # "" = a local (non-Plex) account: the key is left out
    username: str = ""
    user_type: int = 1  # 1 Plex, 2 local

    def as_json(self, request_count: int) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self.id,
            "email": self.email,
            "userType": self.user_type,
            "permissions": 32,
            "avatar": f"/avatarproxy/{self.id}",
            "createdAt": "2024-01-02T10:00:27.000Z",
            "updatedAt": "2024-06-02T10:00:27.000Z",
            "requestCount": request_count,
            "displayName": self.plex_username or self.username or self.email,
        }
        if self.plex_username:
            row["plexUsername"] = self.plex_username
        if self.username:
            row["username"] = self.username
        return row


@dataclass
class _Request:
    id: int
    user: SeerrUser
    media_type: str  # "movie" | "tv"
    tmdb_id: int
    tvdb_id: int | None
    seasons: list[int]
    status: int
    created: datetime


@dataclass
class SeerrFault:
    status: int | None = None  # this HTTP status with an error body
    malformed: bool = False  # HTTP 200 with a body that is not JSON
    delay: float = 0.0
    path: str | None = None  # only requests to this path ("/api/v1/request")
    count: int | None = 1  # how many times; None = forever


class SeerrHandler(SimulatorHandler):
    """GETs go to `SeerrSimulator.handle` (header names lower-cased)."""

    sim: SeerrSimulator

    def do_GET(self) -> None:
        path, query = self.split_url()
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.answer(*self.sim.handle(path.rstrip("/"), query, headers))


@dataclass
class SeerrSimulator(SimulatorServer):
    """A running fake Seerr. Use as a context manager or call start()/stop()."""

    handler_class = SeerrHandler

    api_key: str = "sim-seerr-key-0123456789"
    users: list[SeerrUser] = field(default_factory=list)
    requests_made: list[str] = field(default_factory=list)
    faults: list[SeerrFault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._requests: list[_Request] = []
        self._lock = threading.Lock()

    # --- data ------------------------------------------------------------------------
    def add_user(self, *, email: str, plex_username: str = "", username: str = "") -> SeerrUser:
        with self._lock:
            user = SeerrUser(len(self.users) + 1, email, plex_username, username)
            user.user_type = 1 if plex_username else 2
            self.users.append(user)
        return user

    def add_request(
        self,
        *,
        user: SeerrUser,
        media_type: str,
        tmdb_id: int,
        tvdb_id: int | None = None,
        seasons: list[int] | None = None,
        status: int = 2,
        created: datetime | None = None,
    ) -> int:
        """A request as Seerr stores it once made (2 = approved); returns its id."""
        with self._lock:
            rid = len(self._requests) + 1
            when = created or datetime.now(UTC)
            self._requests.append(
                _Request(rid, user, media_type, tmdb_id, tvdb_id, seasons or [], status, when)
            )
        return rid

    def fault(self, **kwargs: Any) -> SeerrFault:
        fault = SeerrFault(**kwargs)
        self.faults.append(fault)
        return fault

    # --- handling --------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        self.requests_made.append(path)
        if fault := self._take_fault(path):
            time.sleep(fault.delay)
            if fault.malformed:
                return 200, b'{"pageInfo": {"pages": 1, "pageSize": 20, "results": 3'
            if fault.status:
                return fault.status, {"message": "Simulated failure"}
        if path == "/api/v1/status":
            return 200, {"version": "3.1.0", "commitTag": "simulator", "updateAvailable": False}
        if headers.get("x-api-key") != self.api_key:
            return 403, _NO_PERMISSION
        if path == "/api/v1/request":
            return self._request_page(query)
        if path == "/api/v1/user":
            return self._user_page(query)
        return 404, {"message": "Not Found"}

    def _take_fault(self, path: str) -> SeerrFault | None:
        return take_fault(self.faults, self._lock, lambda f: f.path in (None, path))

    def _request_page(self, query: dict[str, str]) -> tuple[int, Any]:
        take, skip = _number(query.get("take"), 10), _number(query.get("skip"), 0)
        wanted = _FILTERS.get(query.get("filter") or "all")
        media = query.get("mediaType") or "all"
        by = query.get("requestedBy")
        with self._lock:
            rows = [
                r
                for r in self._requests
                if (wanted is None or r.status in wanted)
                and media in ("all", r.media_type)
                and (not by or r.user.id == _number(by, 0))
            ]
            newest_first = (query.get("sortDirection") or "desc") == "desc"
            rows.sort(key=lambda r: (r.created, r.id), reverse=newest_first)
            counts = self._counts()
            page = [_request_json(r, counts) for r in rows[skip : skip + take]]
        return 200, _paged(page, len(rows), take, skip)

    def _user_page(self, query: dict[str, str]) -> tuple[int, Any]:
        take, skip = _number(query.get("take"), 10), _number(query.get("skip"), 0)
        with self._lock:
            counts = self._counts()
            users = [u.as_json(counts.get(u.id, 0)) for u in self.users]
        return 200, _paged(users[skip : skip + take], len(users), take, skip)

    def _counts(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for r in self._requests:
            counts[r.user.id] = counts.get(r.user.id, 0) + 1
        return counts


def _number(value: str | None, default: int) -> int:
    try:
        return max(0, int(float(value))) if value not in (None, "") else default
    except ValueError:
        return default


def _paged(results: list, total: int, take: int, skip: int) -> dict[str, Any]:
    size = max(take, 1)
    return {
        "pageInfo": {
            "pages": -(-total // size),
            "pageSize": take,
            "results": total,
            "page": skip // size + 1,
        },
        "results": results,
    }


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _request_json(r: _Request, counts: dict[int, int]) -> dict[str, Any]:
    created = _iso(r.created)
    return {
        "id": r.id,
        "status": r.status,
        "createdAt": created,
        "updatedAt": created,
        "type": r.media_type,
        "is4k": False,
        "serverId": 0,
        "profileId": 4,
        "rootFolder": "/data/movies" if r.media_type == "movie" else "/data/tv",
        "isAutoRequest": False,
        "media": {
            "id": 1000 + r.id,
            "mediaType": r.media_type,
            "tmdbId": r.tmdb_id,
            "tvdbId": r.tvdb_id,
            "status": 5,
            "createdAt": created,
            "updatedAt": created,
        },
        "seasons": [
            {"id": r.id * 100 + n, "seasonNumber": n, "status": r.status} for n in r.seasons
        ],
        "seasonCount": len(r.seasons),
        "requestedBy": r.user.as_json(counts.get(r.user.id, 0)),
        "modifiedBy": None,
    }


def _external_id(item: Any, scheme: str) -> int | None:
    """The TMDB/TVDB id of a library item, from its Guid tags or its legacy agent GUID."""
    for tag in getattr(item, "guid_tags", ()) or ():
        if tag.startswith(f"{scheme}://"):
            return int(tag.split("://", 1)[1])
    agent = {"tmdb": "themoviedb", "tvdb": "thetvdb"}[scheme]
    guid = getattr(item, "guid", "") or ""
    if f"agents.{agent}://" in guid:
        value = guid.split("://", 1)[1].split("?")[0].split("/")[0]
        return int(value) if value.isdigit() else None
    return None


def fill_requests(
    sim: SeerrSimulator, *, movies: list, shows: list, users: int, requests: int, seed: int = 7,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Seerr users `user000`… (as in the generated Tautulli history; every fourth one known
    to Seerr under another Plex username, matched by e-mail) requesting `requests` titles of
    the library, over the last two years."""
    import random

    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    people = [
        sim.add_user(
            email=f"user{n:03d}@example.test",
            plex_username=f"user{n:03d}" if n % 4 else f"plex-user{n:03d}",
        )
        for n in range(users)
    ]
    wanted = [("movie", m, _external_id(m, "tmdb")) for m in movies]
    wanted += [("tv", s, _external_id(s, "tvdb")) for s in shows]
    wanted = [w for w in wanted if w[2] is not None]
    for kind, item, external in rng.sample(wanted, min(requests, len(wanted))):
        created = now.timestamp() - rng.randrange(730 * 86_400)
        seasons = [s.season_number for s in item.seasons] if kind == "tv" else []
        sim.add_request(
            user=rng.choice(people),
            media_type=kind,
            tmdb_id=external if kind == "movie" else rng.randrange(1, 250_000),
            tvdb_id=external if kind == "tv" else None,
            seasons=seasons,
            status=rng.choice((2, 2, 2, 1)),
            created=datetime.fromtimestamp(created, UTC),
        )
