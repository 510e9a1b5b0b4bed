"""A Sonarr API v3 simulator (series, seasons, episodes, episode files, exclusions).

Field names and types are those of `sonarr-v3-openapi.json` (checked by the contract test).
Quirks kept from the real server: `GET /episode` needs `seriesId` or `episodeIds`;
`DELETE /series/{id}` of an unknown id is a 500 (not a 404), and so is a bulk delete
naming an unknown file; `POST /importlistexclusion` of an existing tvdbId is the 400
"This exclusion has already been added." (Sonarr ≥ 4.0.8). Deleting files frees their
space on the disk and leaves the episodes without a file.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from simulators import arr
from simulators.arr import Answer

_SERIES_WRITABLE = ("monitored", "qualityProfileId", "tags", "seasonFolder", "path")


class SonarrSimulator(arr.ArrSimulator):
    """Sonarr's series, episode, episode file and exclusion endpoints on the common *arr
    server.

    A series keeps the ids of its episodes (`_episodes_of`) and of its files (`_files_of`).
    """

    app_name = "Sonarr"
    version = "4.0.15.2941"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.series: dict[int, dict[str, Any]] = {}
        self.episodes: dict[int, dict[str, Any]] = {}
        self._episodes_of: dict[int, list[int]] = defaultdict(list)
        self._files_of: dict[int, list[int]] = defaultdict(list)

    def routes(self) -> arr.Routes:
        return {
            "series": {"GET": self._series_list},
            "series/{id}": {
                "GET": self._series_get,
                "PUT": self._series_put,
                "DELETE": self._series_delete,
            },
            "episode": {"GET": self._episode_list},
            "episode/monitor": {"PUT": self._episode_monitor},
            "episodefile": {"GET": self._file_list},
            "episodefile/bulk": {"DELETE": self._file_bulk_delete},
            "episodefile/{id}": {"DELETE": self._file_delete},
            "importlistexclusion": {"GET": self._exclusion_list, "POST": self._exclusion_add},
        }

    # --- data ----------------------------------------------------------------------------
    def add_series(
        self, *, title: str, year: int, tvdb_id: int, path: str, imdb_id: str | None = None,
        tmdb_id: int = 0, seasons: list[int] = (), tags: list[int] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        series_id = self.new_id("series")
        self.series[series_id] = {
            "id": series_id,
            "title": title,
            "sortTitle": title.lower(),
            "status": "ended",
            "ended": True,
            "year": year,
            "path": path,
            "rootFolderPath": path.rsplit("/", 1)[0],
            "qualityProfileId": 1,
            "seasonFolder": True,
            "monitored": True,
            "monitorNewItems": "all",
            "useSceneNumbering": False,
            "runtime": 45,
            "tvdbId": tvdb_id,
            "tvRageId": 0,
            "tvMazeId": 0,
            "tmdbId": tmdb_id,
            "imdbId": imdb_id,
            "seriesType": "standard",
            "cleanTitle": re.sub(r"\W", "", title.lower()),
            "titleSlug": f"{title.lower().replace(' ', '-')}-{tvdb_id}",
            "tags": list(tags or []),
            "added": arr.ADDED,
            "languageProfileId": 1,
            "seasons": [{"seasonNumber": s, "monitored": True} for s in seasons],
        }
        return self.series[series_id]

    def add_episode(
        self, *, series_id: int, season: int, number: int, title: str = "",
        tvdb_id: int = 0, file: str | None = None, size: int = 0,
    ) -> dict[str, Any]:  # fmt: skip
        """Add an episode, with its own file (`file` relative to the series folder)."""
        file_id = 0
        if file:
            file_id = self._add_file(series_id, season, file, size)
        episode_id = self.new_id("episode")
        self.episodes[episode_id] = {
            "id": episode_id,
            "seriesId": series_id,
            "tvdbId": tvdb_id,
            "episodeFileId": file_id,
            "seasonNumber": season,
            "episodeNumber": number,
            "title": title,
            "runtime": 45,
            "hasFile": bool(file_id),
            "monitored": True,
            "unverifiedSceneNumbering": False,
        }
        self._episodes_of[series_id].append(episode_id)
        return self.episodes[episode_id]

    def _add_file(self, series_id: int, season: int, relative: str, size: int) -> int:
        file_id = self.new_id("file")
        folder, grade = self.series[series_id]["path"], arr.quality("WEBDL-1080p", "web", 1080)
        row = self.file_row(file_id, folder=folder, relative=relative, size=size, quality=grade)
        self.files[file_id] = {
            **row,
            "seriesId": series_id,
            "seasonNumber": season,
            "customFormatScore": 0,
            "releaseType": "singleEpisode",
        }
        self._files_of[series_id].append(file_id)
        return file_id

    def _resource(self, series: dict[str, Any]) -> dict[str, Any]:
        files = [self.files[f] for f in self._files_of[series["id"]]]
        episodes = [self.episodes[e] for e in self._episodes_of[series["id"]]]
        seasons = []
        for season in series["seasons"]:
            number = season["seasonNumber"]
            in_season = [f for f in files if f["seasonNumber"] == number]
            count = sum(1 for e in episodes if e["seasonNumber"] == number)
            stats = _stats(in_season, count)
            seasons.append({**season, "statistics": stats})
        stats = {"seasonCount": len(seasons), **_stats(files, len(episodes))}
        return {**series, "seasons": seasons, "statistics": stats}

    def _remove_file(self, file_id: int) -> None:
        file = self.files.pop(file_id)
        self._files_of[file["seriesId"]].remove(file_id)
        for episode_id in self._episodes_of[file["seriesId"]]:
            episode = self.episodes[episode_id]
            if episode["episodeFileId"] == file_id:
                episode.update(episodeFileId=0, hasFile=False)
        self.free_space(file["path"], file["size"])

    # --- routes --------------------------------------------------------------------------
    def _series_list(self, *, query: dict[str, str], **_: Any) -> Answer:
        return 200, [self._resource(s) for s in self.matching(self.series, query, "tvdbId")]

    def _series_get(self, *, id: str, **_: Any) -> Answer:
        return 200, self._resource(self.found(self.series, id))

    def _series_put(self, *, id: str, data: Any, **_: Any) -> Answer:
        series = self.series.get(int(id))
        if series is None:
            raise arr.error_model(404, f"Series with ID {id} does not exist")
        if not isinstance(data, dict):
            raise arr.HttpError(400, {"title": "The request body is not a series.", "status": 400})
        series.update({k: data[k] for k in _SERIES_WRITABLE if k in data})
        wanted = {s.get("seasonNumber"): s.get("monitored") for s in data.get("seasons") or []}
        for season in series["seasons"]:
            if isinstance(wanted.get(season["seasonNumber"]), bool):
                season["monitored"] = wanted[season["seasonNumber"]]
        return 202, self._resource(series)

    def _series_delete(self, *, id: str, query: dict[str, str], **_: Any) -> Answer:
        delete_files = arr.bool_param(query, "deleteFiles")
        exclude = arr.bool_param(query, "addImportListExclusion")
        series = self.series.pop(int(id), None)
        if series is None:
            raise arr.error_model(500, "Sequence contains no matching element")
        for file_id in list(self._files_of[series["id"]]):
            file = self.files.pop(file_id)
            if delete_files:
                self.free_space(file["path"], file["size"])
        for episode_id in self._episodes_of.pop(series["id"], []):
            del self.episodes[episode_id]
        self._files_of.pop(series["id"], None)
        if exclude:
            row = {"tvdbId": series["tvdbId"], "title": series["title"]}
            self.exclusions.add(series["tvdbId"], row)
        return 200, None

    def _episode_list(self, *, query: dict[str, str], **_: Any) -> Answer:
        if query.get("seriesId"):
            ids = self._episodes_of.get(int(query["seriesId"]), [])
        elif query.get("episodeIds"):
            ids = [int(i) for i in query["episodeIds"].split(",") if int(i) in self.episodes]
        else:
            raise arr.HttpError(400, {"message": "seriesId or episodeIds must be provided"})
        episodes = [self.episodes[i] for i in ids]
        if query.get("seasonNumber"):
            episodes = [e for e in episodes if str(e["seasonNumber"]) == query["seasonNumber"]]
        return 200, episodes

    def _episode_monitor(self, *, data: Any, **_: Any) -> Answer:
        ids = data.get("episodeIds") or [] if isinstance(data, dict) else []
        if not isinstance(data.get("monitored"), bool):
            raise arr.HttpError(400, {"title": "monitored must be a bool", "status": 400})
        missing = [i for i in ids if i not in self.episodes]
        if missing:
            raise arr.error_model(500, f"Expected query to return {len(ids)} rows")
        for episode_id in ids:
            self.episodes[episode_id]["monitored"] = data["monitored"]
        return 202, None

    def _file_list(self, *, query: dict[str, str], **_: Any) -> Answer:
        if not query.get("seriesId"):
            raise arr.HttpError(400, {"message": "seriesId or episodeFileIds must be provided"})
        ids = self._files_of.get(int(query["seriesId"]), [])
        return 200, [self.files[i] for i in ids]

    def _file_delete(self, *, id: str, **_: Any) -> Answer:
        if int(id) not in self.files:
            raise arr.error_model(404, f"Episode file with ID {id} does not exist")
        self._remove_file(int(id))
        return 200, None

    def _file_bulk_delete(self, *, data: Any, **_: Any) -> Answer:
        ids = data.get("episodeFileIds") or [] if isinstance(data, dict) else []
        found = [i for i in ids if i in self.files]
        if len(found) != len(ids):
            raise arr.error_model(
                500, f"Expected query to return {len(ids)} rows but returned {len(found)}"
            )
        for file_id in ids:
            self._remove_file(file_id)
        return 200, {}

    def _exclusion_add(self, *, data: Any, **_: Any) -> Answer:
        data = data if isinstance(data, dict) else {}
        tvdb_id = int(data.get("tvdbId") or 0)
        row = {"tvdbId": tvdb_id, "title": data.get("title") or ""}
        empty = "'Tvdb Id' must be greater than '0'."
        return self.exclusion_add(tvdb_id, row, prop="TvdbId", empty=empty)


def _stats(files: list[dict[str, Any]], episode_count: int) -> dict[str, Any]:
    with_file = len(files)
    return {
        "episodeFileCount": with_file,
        "episodeCount": episode_count,
        "totalEpisodeCount": episode_count,
        "sizeOnDisk": sum(f["size"] for f in files),
        "releaseGroups": [],
        "percentOfEpisodes": 100.0 * with_file / episode_count if episode_count else 0.0,
    }


def sonarr_from_library(
    library: Any, *, arr_prefix: str = "/data/tv", shows: Any = None, **kwargs: Any
) -> SonarrSimulator:
    """A Sonarr holding the library's shows (or `shows`) with each episode's first file, on
    a 60 TB disk; series folders are under `arr_prefix`."""
    sim = SonarrSimulator(**kwargs)
    used = 0
    for n, show in enumerate(shows if shows is not None else library.shows):
        ids = _tags(show.guid_tags, show.guid)
        folder = f"{arr_prefix}/{show.title} ({show.year})"
        series = sim.add_series(
            title=show.title, year=show.year or 0, tvdb_id=ids.get("tvdb") or 8_000_000 + n,
            imdb_id=ids.get("imdb"), tmdb_id=ids.get("tmdb") or 0, path=folder,
            seasons=[s.index for s in show.seasons], tags=[1] if n % 7 == 3 else [],
        )  # fmt: skip
        for season in show.seasons:
            for episode in season.episodes:
                part = episode.media[0].parts[0] if episode.media else None
                relative = part.file.split(f"/{show.title} ({show.year})/", 1)[1] if part else None
                sim.add_episode(
                    series_id=series["id"], season=season.index, number=episode.index,
                    title=episode.title, tvdb_id=_tags(episode.guid_tags, "").get("tvdb") or 0,
                    file=relative, size=part.size if part else 0,
                )  # fmt: skip
                used += part.size if part else 0
    sim.stock(root=arr_prefix, used=used, disk_total=60 * 10**12)
    sim.exclusions.add(70_001, {"tvdbId": 70_001, "title": "Deleted Long Ago"})
    return sim


def _tags(guid_tags: Any, guid: str) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    if "agents.thetvdb://" in guid:
        ids["tvdb"] = int(guid.split("://", 1)[1].split("?")[0].split("/")[0])
    for tag in guid_tags:
        scheme, _, value = tag.partition("://")
        if scheme in ("tvdb", "tmdb"):
            ids.setdefault(scheme, int(value))
        elif scheme == "imdb":
            ids.setdefault(scheme, value)
    return ids
