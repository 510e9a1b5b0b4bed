"""What Radarr and Sonarr share: an API v3 server over real HTTP on 127.0.0.1 (stdlib only).

The wire behaviour follows the official OpenAPI documents in `../shared/specs/` and the notes
in their README (what the documents do not say): the API key from the `apikey` query
parameter, then `X-Api-Key`, then `Authorization: Bearer`, else `401` with an empty body;
`201`/`202` where the documents say `200`; DELETE by id answers `200` with an empty body;
`404` ProblemDetails for a GET of an unknown id, ErrorModel for a missing row inside a
service; FluentValidation lists for `400`; `415` without a JSON content type.

Subclasses (`RadarrSimulator`, `SonarrSimulator`) add their routes and data. Every request
lands in `calls` (method, path, query, parsed body, answered status) so tests can assert the
exact sequence; `fault()` injects a status, a delay or an "accepted but ignored" write.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from simulators.base import SimulatorHandler, SimulatorServer, last_values, take_fault

ADDED = "2024-01-01T00:00:00Z"  # when every simulated movie, series and file was added
Answer = tuple[int, Any]  # (status, JSON-able body, or bytes, or None for an empty body)


@dataclass(frozen=True)
class Call:
    """One request as the simulator saw it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in sorted(self.query.items()) if k != "apikey")
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


@dataclass
class Fault:
    """An injected fault for requests matching `method` and `path` (a regular expression)."""

    method: str | None = None
    path: str | None = None
    status: int = 500  # answered instead of the real thing (0 = answer normally)
    delay: float = 0.0
    ignore: bool = False  # answer as if done (202 + body) but change nothing
    count: int | None = 1  # None = forever
    skip: int = 0  # let this many matching requests through first

    def fires(self, method: str, path: str) -> bool:
        """Whether this request gets the fault; the first `skip` matching ones pass."""
        if self.method and self.method != method:
            return False
        if self.path and re.fullmatch(self.path, path) is None:
            return False
        if self.skip:
            self.skip -= 1
            return False
        return True


@dataclass
class Disk:
    """One filesystem as `/api/v3/diskspace` reports it; deleting files frees space here."""

    path: str
    total: int
    free: int
    label: str = ""


class HttpError(Exception):
    """Raised by a route: answered as (status, body)."""

    def __init__(self, status: int, body: Any = None, content_type: str = "application/json"):
        super().__init__(status)
        self.status, self.body, self.content_type = status, body, content_type


def problem(status: int, title: str) -> HttpError:
    """ASP.NET ProblemDetails (a GET of an unknown id)."""
    body = {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        "title": title,
        "status": status,
        "traceId": "00-simulated-trace-00",
    }
    return HttpError(status, body, "application/problem+json")


def error_model(status: int, message: str) -> HttpError:
    """The ErrorModel the *arrs answer when a service hits a missing row."""
    return HttpError(status, {"message": message, "description": f"NzbDrone.Core...: {message}"})


def validation(prop: str, message: str, value: Any) -> HttpError:
    """A FluentValidation failure list (400), e.g. a duplicate import exclusion."""
    failure = {
        "propertyName": prop,
        "errorMessage": message,
        "attemptedValue": value,
        "severity": "error",
        "errorCode": "PredicateValidator",
        "formattedMessageArguments": [],
        "formattedMessagePlaceholderValues": {"PropertyName": prop, "PropertyValue": value},
    }
    return HttpError(400, [failure])


def bool_param(query: dict[str, str], name: str) -> bool:
    """Model binding of a bool query parameter: only true/false, else 400."""
    raw = query.get(name)
    if raw is None or raw == "":
        return False
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    body = {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": {name: [f"The value '{raw}' is not valid."]},
    }
    raise HttpError(400, body, "application/problem+json")


Handler = Callable[..., Answer]
Route = tuple[str, re.Pattern[str], Handler]
# What a simulator serves: path below /api/v3/ (`{id}` is a numeric id, passed as `id`) →
# HTTP method → handler.
Routes = dict[str, dict[str, Handler]]


def compiled(routes: Routes) -> list[Route]:
    """The dispatch table of a `Routes` declaration."""
    return [
        (method, re.compile("/api/v3/" + path.replace("{id}", r"(?P<id>\d+)")), handler)
        for path, methods in routes.items()
        for method, handler in methods.items()
    ]


class ArrHandler(SimulatorHandler):
    """Every verb goes to `ArrSimulator.handle`."""

    sim: ArrSimulator

    def _serve(self) -> None:
        status, content_type, payload = self.sim.handle(
            self.command, self.path, self.headers, self.read_body()
        )
        self.answer(status, payload, content_type)

    do_GET = do_PUT = do_POST = do_DELETE = _serve


class ArrSimulator(SimulatorServer):
    """The common part of a simulated Radarr/Sonarr. Use as a context manager."""

    handler_class = ArrHandler

    app_name = "Arr"
    version = "0.0.0"

    def __init__(self, *, api_key: str = "sim-arr-key-0123456789abcdef", disks=None) -> None:
        self.api_key = api_key
        self.disks: list[Disk] = list(disks or [])
        self.root_folders: list[str] = []
        self.tags: dict[int, str] = {}
        self.quality_profiles: dict[int, str] = {1: "HD-1080p", 2: "Ultra-HD"}
        self.exclusions = Exclusions()
        self._next: dict[str, int] = defaultdict(lambda: 1)
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self.files: dict[int, dict[str, Any]] = {}  # movie files / episode files by id
        common: Routes = {
            "system/status": {"GET": self._status},
            "diskspace": {"GET": self._diskspace},
            "rootfolder": {"GET": self._rootfolders},
            "tag": {"GET": self._tags},
            "qualityprofile": {"GET": self._profiles},
        }
        self._routes = compiled({**common, **self.routes()})

    # --- to be extended by the subclasses ----------------------------------------------
    def routes(self) -> Routes:
        return {}

    # --- for the subclasses --------------------------------------------------------------
    def new_id(self, table: str) -> int:
        """The next id of `table` ("movie", "file", …), from 1 as in a fresh database."""
        self._next[table] += 1
        return self._next[table] - 1

    def stock(self, *, root: str, used: int, disk_total: int) -> None:
        """The settings a `*_from_library` simulator gets: one root folder on one disk holding
        `used` bytes, and a "keep" tag."""
        self.root_folders = [root]
        self.tags = {1: "keep"}
        self.disks = [Disk(path=root, total=disk_total, free=max(disk_total - used, 0))]

    def file_row(
        self, file_id: int, *, folder: str, relative: str, size: int, quality: dict[str, Any]
    ) -> dict[str, Any]:
        """The fields a MovieFile and an EpisodeFile share."""
        return {
            "id": file_id,
            "relativePath": relative,
            "path": f"{folder}/{relative}",
            "size": size,
            "dateAdded": ADDED,
            "languages": [{"id": 1, "name": "English"}],
            "quality": quality,
            "qualityCutoffNotMet": False,
        }

    @staticmethod
    def matching(table: dict[int, dict[str, Any]], query: dict[str, str], key: str) -> list:
        """The rows of a collection GET: all, or those whose `key` (tmdbId / tvdbId) is the
        query's value of it."""
        wanted = query.get(key)
        return [row for row in table.values() if not wanted or str(row[key]) == wanted]

    @staticmethod
    def found(table: dict[int, dict[str, Any]], id: str) -> dict[str, Any]:
        """The row of a GET by id, or the ProblemDetails 404."""
        row = table.get(int(id))
        if row is None:
            raise problem(404, "Not Found")
        return row

    def exclusion_add(self, key: int, row: dict[str, Any], *, prop: str, empty: str) -> Answer:
        """POST of an import exclusion keyed on `key` (tmdbId / tvdbId, named `prop`)."""
        if not key:
            raise validation(prop, empty, 0)
        if key in self.exclusions.rows:
            raise validation(prop, "This exclusion has already been added.", key)
        return 201, self.exclusions.add(key, row)

    def _exclusion_list(self, **_: Any) -> Answer:
        return 200, list(self.exclusions.rows.values())

    # --- test helpers --------------------------------------------------------------------
    def fault(self, **kwargs: Any) -> Fault:
        fault = Fault(**kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def writes(self) -> list[str]:
        """The state-changing calls so far, as "METHOD /path?query" strings."""
        return [str(c) for c in self.calls if c.method != "GET"]

    def free_space(self, path: str, size: int) -> None:
        """A file of `size` bytes under `path` was deleted: its disk gains the space."""
        disk = self.disk_for(path)
        if disk is not None:
            disk.free = min(disk.total, disk.free + size)

    def disk_for(self, path: str) -> Disk | None:
        holding = [d for d in self.disks if path.startswith(d.path.rstrip("/") + "/")]
        return max(holding, key=lambda d: len(d.path), default=None)

    # --- request handling ----------------------------------------------------------------
    def handle(self, method: str, raw: str, headers, body: bytes) -> tuple[int, str, bytes]:
        parts = urlsplit(raw)
        query = last_values(parts.query)
        parsed = _parse_json(body)
        status, content_type, payload = self._answer(method, parts.path, query, headers, body)
        with self.lock:
            self.calls.append(Call(method, parts.path, query, parsed, status))
        return status, content_type, payload

    def _answer(self, method, path, query, headers, body) -> tuple[int, str, bytes]:
        if not self._authorized(query, headers):
            return 401, "", b""
        fault = self._take_fault(method, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status and not fault.ignore:
            err = error_model(fault.status, "Simulated failure")
            return fault.status, "application/json", json.dumps(err.body).encode()
        try:
            status, result = self._dispatch(method, path, query, headers, body, fault)
        except HttpError as exc:
            payload = b"" if exc.body is None else json.dumps(exc.body).encode()
            return exc.status, exc.content_type if payload else "", payload
        if result is None:
            return status, "", b""
        return status, "application/json; charset=utf-8", json.dumps(result).encode()

    def _authorized(self, query: dict[str, str], headers) -> bool:
        bearer = (headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        key = query.get("apikey") or headers.get("X-Api-Key") or bearer
        return key == self.api_key

    def _take_fault(self, method: str, path: str) -> Fault | None:
        return take_fault(self.faults, self.lock, lambda f: f.fires(method, path))

    def _dispatch(self, method, path, query, headers, body, fault) -> Answer:
        for verb, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if verb == method and match:
                data = None
                if method in ("PUT", "POST") or (body and method == "DELETE"):
                    data = self._json_body(headers, body)
                    if fault is not None and fault.ignore:
                        return 202, data
                with self.lock:
                    return handler(query=query, data=data, **match.groupdict())
        raise problem(404, "Not Found") if method == "GET" else HttpError(405)

    @staticmethod
    def _json_body(headers, body: bytes) -> Any:
        if "json" not in (headers.get("Content-Type") or ""):
            raise HttpError(415)
        data = _parse_json(body)
        if data is None:
            raise HttpError(400, {"title": "A non-empty request body is required.", "status": 400})
        return data

    # --- common endpoints ----------------------------------------------------------------
    def _status(self, **_: Any) -> Answer:
        return 200, {
            "appName": self.app_name,
            "instanceName": self.app_name,
            "version": self.version,
            "buildTime": "2025-01-01T00:00:00Z",
            "isDebug": False,
            "isProduction": True,
            "isAdmin": False,
            "isUserInteractive": False,
            "startupPath": f"/app/{self.app_name.lower()}/bin",
            "appData": "/config",
            "osName": "ubuntu",
            "isNetCore": True,
            "isLinux": True,
            "isOsx": False,
            "isWindows": False,
            "isDocker": True,
            "mode": "console",
            "branch": "main",
            "databaseType": "sqLite",
            "authentication": "forms",
            "migrationVersion": 200,
            "urlBase": "",
            "startTime": "2025-01-01T00:00:00Z",
        }

    def _diskspace(self, **_: Any) -> Answer:
        return 200, [
            {"id": 0, "path": d.path, "label": d.label, "freeSpace": d.free, "totalSpace": d.total}
            for d in self.disks
        ]

    def _rootfolders(self, **_: Any) -> Answer:
        result = []
        for n, path in enumerate(self.root_folders, start=1):
            disk = self.disk_for(path.rstrip("/") + "/x")
            free = disk.free if disk else None
            result.append(
                {
                    "id": n,
                    "path": path,
                    "accessible": True,
                    "freeSpace": free,
                    "unmappedFolders": [],
                }
            )
        return 200, result

    def _tags(self, **_: Any) -> Answer:
        return 200, [{"id": k, "label": v} for k, v in sorted(self.tags.items())]

    def _profiles(self, **_: Any) -> Answer:
        return 200, [
            {"id": k, "name": v, "upgradeAllowed": False, "cutoff": 7, "items": []}
            for k, v in sorted(self.quality_profiles.items())
        ]


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def quality(name: str, source: str, resolution: int) -> dict[str, Any]:
    """A QualityModel as both *arrs serve it."""
    return {
        "quality": {"id": 7, "name": name, "source": source, "resolution": resolution},
        "revision": {"version": 1, "real": 0, "isRepack": False},
    }


@dataclass
class Exclusions:
    """Import-list exclusions keyed on the external id (tmdbId / tvdbId)."""

    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1

    def add(self, key: int, row: dict[str, Any]) -> dict[str, Any]:
        if key in self.rows:
            return self.rows[key]
        row = {"id": self.next_id, **row}
        self.next_id += 1
        self.rows[key] = row
        return row
