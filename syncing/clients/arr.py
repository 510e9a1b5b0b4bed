"""The Radarr/Sonarr client: the only module that speaks their API v3.

Why not pyarr: its current releases need Python ≥ 3.12 and its 5.x line lacks the
`addImportExclusion` / `addImportListExclusion` flags of the deletes, while SmartPlex needs
about a dozen endpoints; a small typed client on `requests` is the right size.

Both *arrs share the base (`kind` says which). The API key travels in the `X-Api-Key`
header only, never in a URL (urllib3 logs URLs when it retries) nor in a message.
Connection errors and 5xx are retried with backoff (idempotent methods only), every call
has a timeout, and every failure is one `ArrError` with a one-line message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from syncing.clients.errors import ClientError
from syncing.clients.http import ApiClient, retrying_session

DUPLICATE_EXCLUSION = "already been added"


class ArrError(ClientError):
    """Anything that went wrong talking to Radarr/Sonarr; `status` is the HTTP status (if any)."""

    def __init__(self, message: str, *, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.status = status
        self.detail = detail

    @property
    def duplicate_exclusion(self) -> bool:
        """The 400 "This exclusion has already been added.": the goal is already met."""
        return self.status == 400 and DUPLICATE_EXCLUSION in self.detail


@dataclass(frozen=True, slots=True)
class ArrStatus:
    app_name: str
    version: str


@dataclass(frozen=True, slots=True)
class ArrTitle:
    """What a Radarr movie and a Sonarr series both carry."""

    id: int
    title: str
    year: int | None
    tmdb_id: int | None
    imdb_id: str | None
    path: str
    monitored: bool
    quality_profile_id: int | None
    tags: tuple[int, ...]
    size_on_disk: int


@dataclass(frozen=True, slots=True)
class ArrMovie(ArrTitle):
    file_id: int | None
    file_path: str | None


@dataclass(frozen=True, slots=True)
class ArrSeason:
    number: int
    monitored: bool


@dataclass(frozen=True, slots=True)
class ArrSeries(ArrTitle):
    tvdb_id: int | None
    seasons: tuple[ArrSeason, ...]


@dataclass(frozen=True, slots=True)
class ArrEpisode:
    id: int
    series_id: int
    season_number: int
    episode_number: int
    tvdb_id: int | None
    monitored: bool
    file_id: int | None


@dataclass(frozen=True, slots=True)
class ArrEpisodeFile:
    id: int
    series_id: int
    season_number: int
    path: str
    size: int


@dataclass(frozen=True, slots=True)
class ArrDisk:
    path: str
    label: str
    free_bytes: int
    total_bytes: int


def _id(value: Any) -> int | None:
    """The *arrs send 0 for "none" (a movie without a TMDB id, an episode without a file)."""
    return int(value) if value else None


def _title(raw: dict[str, Any], size_on_disk: Any) -> dict[str, Any]:
    return {
        "id": int(raw["id"]),
        "title": raw.get("title") or "",
        "year": raw.get("year") or None,
        "tmdb_id": _id(raw.get("tmdbId")),
        "imdb_id": raw.get("imdbId") or None,
        "path": raw.get("path") or "",
        "monitored": bool(raw.get("monitored")),
        "quality_profile_id": raw.get("qualityProfileId"),
        "tags": tuple(raw.get("tags") or ()),
        "size_on_disk": int(size_on_disk or 0),
    }


def movie_from(raw: dict[str, Any]) -> ArrMovie:
    file = raw.get("movieFile") or {}
    return ArrMovie(
        **_title(raw, raw.get("sizeOnDisk") or file.get("size")),
        file_id=_id(file.get("id")) or _id(raw.get("movieFileId")),
        file_path=file.get("path") or None,
    )


def series_from(raw: dict[str, Any]) -> ArrSeries:
    seasons = tuple(
        ArrSeason(int(s["seasonNumber"]), bool(s.get("monitored")))
        for s in raw.get("seasons") or ()
    )
    size = (raw.get("statistics") or {}).get("sizeOnDisk")
    return ArrSeries(**_title(raw, size), tvdb_id=_id(raw.get("tvdbId")), seasons=seasons)


def episode_from(raw: dict[str, Any]) -> ArrEpisode:
    return ArrEpisode(
        id=int(raw["id"]),
        series_id=int(raw["seriesId"]),
        season_number=int(raw["seasonNumber"]),
        episode_number=int(raw["episodeNumber"]),
        tvdb_id=_id(raw.get("tvdbId")),
        monitored=bool(raw.get("monitored")),
        file_id=_id(raw.get("episodeFileId")),
    )


def episode_file_from(raw: dict[str, Any]) -> ArrEpisodeFile:
    return ArrEpisodeFile(
        id=int(raw["id"]),
        series_id=int(raw["seriesId"]),
        season_number=int(raw["seasonNumber"]),
        path=raw.get("path") or "",
        size=int(raw.get("size") or 0),
    )


class ArrClient(ApiClient):
    """One Radarr or Sonarr instance. Use as a context manager or call close()."""

    error = ArrError

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        kind: str = "radarr",
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        session = retrying_session(
            retries=retries, backoff=backoff, methods={"GET", "PUT", "DELETE"},
            headers={"X-Api-Key": api_key, "Accept": "application/json"},
        )  # fmt: skip
        super().__init__(base_url, api_key, timeout=timeout, session=session)
        self.kind = kind
        self.name = "Radarr" if kind == "radarr" else "Sonarr"
        self.last_status: int | None = None

    def __repr__(self) -> str:  # never the key
        return f"<ArrClient {self.name} {self.shown_url}>"

    # --- plumbing --------------------------------------------------------------------------
    def call(self, method: str, path: str, *, params=None, body: Any = None) -> Any:
        """One request; the decoded JSON answer (None for an empty body) or ArrError."""
        where = f"{method} /api/v3/{path}"
        self.last_status = None
        resp = self.send(
            method, f"{self.base_url}/api/v3/{path}", params=params, json=body,
            where=f"{method} {self.shown_url}/api/v3/{path}",
        )  # fmt: skip
        self.last_status = resp.status_code
        if resp.status_code == 401:
            raise ArrError(
                f"{self.name} at {self.shown_url} rejected the API key (401)", status=401
            )
        if resp.status_code >= 400:
            detail = self._mask(_error_text(resp))
            raise ArrError(
                f"{self.name} answered HTTP {resp.status_code} on {where}: {detail}",
                status=resp.status_code, detail=detail,
            )  # fmt: skip
        return self.decoded(resp, what=where)

    def _list(self, path: str, convert, **params: Any) -> list:
        data = self.call("GET", path, params=params or None)
        try:
            return [convert(row) for row in data]
        except (KeyError, TypeError, ValueError) as exc:
            raise ArrError(
                f"{self.name} sent /api/v3/{path} of an unexpected shape ({type(exc).__name__}: {exc})"
            ) from None

    # --- reads -----------------------------------------------------------------------------
    def status(self) -> ArrStatus:
        data = self.call("GET", "system/status") or {}
        return ArrStatus(
            app_name=str(data.get("appName") or ""), version=str(data.get("version") or "")
        )

    def movies(self) -> list[ArrMovie]:
        return self._list("movie", movie_from)

    def series(self) -> list[ArrSeries]:
        return self._list("series", series_from)

    def series_raw(self, series_id: int) -> dict[str, Any]:
        """The whole series resource, as the PUT that changes it must send it back."""
        return self.call("GET", f"series/{series_id}")

    def episodes(self, series_id: int) -> list[ArrEpisode]:
        return self._list("episode", episode_from, seriesId=series_id)

    def episode_files(self, series_id: int) -> list[ArrEpisodeFile]:
        return self._list("episodefile", episode_file_from, seriesId=series_id)

    def diskspace(self) -> list[ArrDisk]:
        def disk(raw: dict[str, Any]) -> ArrDisk:
            return ArrDisk(
                raw.get("path") or "",
                raw.get("label") or "",
                int(raw["freeSpace"]),
                int(raw["totalSpace"]),
            )

        return self._list("diskspace", disk)

    def root_folders(self) -> list[str]:
        return self._list("rootfolder", lambda raw: str(raw["path"]))

    # --- writes ----------------------------------------------------------------------------
    def movie_delete(self, movie_id: int) -> None:
        """Remove the movie and its files, and exclude it from import lists."""
        params = {"deleteFiles": "true", "addImportExclusion": "true"}
        self.call("DELETE", f"movie/{movie_id}", params=params)

    def series_delete(self, series_id: int) -> None:
        params = {"deleteFiles": "true", "addImportListExclusion": "true"}
        self.call("DELETE", f"series/{series_id}", params=params)

    def series_put(self, series_id: int, resource: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", f"series/{series_id}", body=resource)

    def episodes_monitor(self, episode_ids: list[int], *, monitored: bool) -> None:
        self.call(
            "PUT", "episode/monitor", body={"episodeIds": episode_ids, "monitored": monitored}
        )

    def episode_file_delete(self, file_id: int) -> None:
        self.call("DELETE", f"episodefile/{file_id}")

    def exclusion_add(self, *, external_id: int, title: str, year: int | None = None) -> None:
        """Exclude from import lists. An existing exclusion is the 400 `duplicate_exclusion`,
        which callers count as done."""
        if self.kind == "radarr":
            path, body = (
                "exclusions",
                {"tmdbId": external_id, "movieTitle": title, "movieYear": year or 0},
            )
        else:
            path, body = "importlistexclusion", {"tvdbId": external_id, "title": title}
        self.call("POST", path, body=body)


def _error_text(resp: requests.Response) -> str:
    """The one line worth showing from an error body (ErrorModel, validation list, problem)."""
    try:
        data = json.loads(resp.content)
    except ValueError:
        return resp.reason or "no message"
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return "; ".join(str(f.get("errorMessage") or "") for f in data)[:300]
    if isinstance(data, dict):
        return str(data.get("message") or data.get("title") or "no message")[:300]
    return "no message"
