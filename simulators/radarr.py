"""A Radarr API v3 simulator (movies, movie files, import exclusions), standard library only.

Field names and types are those of `radarr-v3-openapi.json` (checked by the contract test);
`DELETE /api/v3/movie/{id}?deleteFiles=true&addImportExclusion=true` removes the movie,
frees its file's space on the disk and adds the exclusion (de-duplicated, as the real
delete path does), while `POST /api/v3/exclusions` of an existing tmdbId is the 400
"This exclusion has already been added." (Radarr ≥ 5.9).
"""

from __future__ import annotations

from typing import Any

from simulators import arr
from simulators.arr import Answer


class RadarrSimulator(arr.ArrSimulator):
    """Radarr's movie, movie file and exclusion endpoints on the common *arr server.

    A movie has at most one file (`_file_by_movie`), as in Radarr.
    """

    app_name = "Radarr"
    version = "5.26.2.10099"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.movies: dict[int, dict[str, Any]] = {}
        self._file_by_movie: dict[int, int] = {}  # movie id → its file's id (one file each)

    def routes(self) -> arr.Routes:
        return {
            "movie": {"GET": self._movie_list},
            "movie/{id}": {"GET": self._movie_get, "DELETE": self._movie_delete},
            "moviefile": {"GET": self._file_list},
            "moviefile/{id}": {"DELETE": self._file_delete},
            "exclusions": {"GET": self._exclusion_list, "POST": self._exclusion_add},
        }

    # --- data ----------------------------------------------------------------------------
    def add_movie(
        self,
        *,
        title: str,
        year: int,
        tmdb_id: int,
        imdb_id: str | None = None,
        path: str,
        file: str | None = None,
        size: int = 0,
        monitored: bool = True,
        quality_profile_id: int = 1,
        tags: list[int] | None = None,
    ) -> dict[str, Any]:
        """Add a movie (with one file when `file`, a path relative to `path`, is given)."""
        movie_id = self.new_id("movie")
        movie = {
            "id": movie_id,
            "title": title,
            "sortTitle": title.lower(),
            "status": "released",
            "year": year,
            "path": path,
            "folderName": path,
            "rootFolderPath": path.rsplit("/", 1)[0],
            "qualityProfileId": quality_profile_id,
            "monitored": monitored,
            "minimumAvailability": "released",
            "isAvailable": True,
            "runtime": 100,
            "imdbId": imdb_id,
            "tmdbId": tmdb_id,
            "titleSlug": f"{title.lower().replace(' ', '-')}-{tmdb_id}",
            "tags": list(tags or []),
            "added": arr.ADDED,
        }
        self.movies[movie_id] = movie
        if file:
            self._add_file(movie_id, path, file, size)
        return movie

    def _add_file(self, movie_id: int, folder: str, relative: str, size: int) -> None:
        file_id = self.new_id("file")
        self._file_by_movie[movie_id] = file_id
        grade = arr.quality("Bluray-1080p", "bluray", 1080)
        row = self.file_row(file_id, folder=folder, relative=relative, size=size, quality=grade)
        self.files[file_id] = {**row, "movieId": movie_id}

    def _file_of(self, movie_id: int) -> dict[str, Any] | None:
        return self.files.get(self._file_by_movie.get(movie_id, 0))

    def _resource(self, movie: dict[str, Any]) -> dict[str, Any]:
        file = self._file_of(movie["id"])
        extra = {"hasFile": file is not None, "movieFileId": file["id"] if file else 0}
        extra["sizeOnDisk"] = file["size"] if file else 0
        if file:
            extra["movieFile"] = file
        return {**movie, **extra}

    # --- routes --------------------------------------------------------------------------
    def _movie_list(self, *, query: dict[str, str], **_: Any) -> Answer:
        return 200, [self._resource(m) for m in self.matching(self.movies, query, "tmdbId")]

    def _movie_get(self, *, id: str, **_: Any) -> Answer:
        return 200, self._resource(self.found(self.movies, id))

    def _movie_delete(self, *, id: str, query: dict[str, str], **_: Any) -> Answer:
        delete_files = arr.bool_param(query, "deleteFiles")
        exclude = arr.bool_param(query, "addImportExclusion")
        movie = self.movies.pop(int(id), None)
        if movie is None:
            raise arr.error_model(404, f"Movie with ID {id} does not exist")
        file = self._file_of(movie["id"])
        if file is not None:
            del self.files[file["id"]]
            del self._file_by_movie[movie["id"]]
            if delete_files:
                self.free_space(file["path"], file["size"])
        if exclude:
            self.exclusions.add(
                movie["tmdbId"],
                {
                    "tmdbId": movie["tmdbId"],
                    "movieTitle": movie["title"],
                    "movieYear": movie["year"],
                },
            )
        return 200, None

    def _file_list(self, *, query: dict[str, str], **_: Any) -> Answer:
        if not query.get("movieId") and not query.get("movieFileIds"):
            raise arr.HttpError(400, [])
        file = self._file_of(int(query.get("movieId") or 0))
        return 200, [file] if file else []

    def _file_delete(self, *, id: str, **_: Any) -> Answer:
        file = self.files.pop(int(id), None)
        if file is None:
            raise arr.error_model(404, f"Movie file with ID {id} does not exist")
        self._file_by_movie.pop(file["movieId"], None)
        self.free_space(file["path"], file["size"])
        return 200, None

    def _exclusion_add(self, *, data: Any, **_: Any) -> Answer:
        data = data if isinstance(data, dict) else {}
        tmdb_id = int(data.get("tmdbId") or 0)
        year = int(data.get("movieYear") or 0) if tmdb_id else 0
        row = {"tmdbId": tmdb_id, "movieTitle": data.get("movieTitle") or "", "movieYear": year}
        return self.exclusion_add(tmdb_id, row, prop="TmdbId", empty="'Tmdb Id' must not be empty.")


def radarr_from_library(
    library: Any, *, arr_prefix: str = "/data/movies", movies: Any = None, **kwargs: Any
) -> RadarrSimulator:
    """A Radarr holding the library's movies (or `movies`), each movie's first file, on a
    40 TB disk.

    Movie folders are under `arr_prefix` (Radarr in another container sees other paths than
    Plex); movies without an external id get a made-up tmdbId (Radarr always has one).
    """
    sim = RadarrSimulator(**kwargs)
    used = 0
    for n, movie in enumerate(movies if movies is not None else library.movies):
        tmdb, imdb = _ids(movie)
        part = movie.media[0].parts[0] if movie.media else None
        folder = f"{arr_prefix}/{movie.title} ({movie.year})"
        relative = part.file.rsplit("/", 1)[1] if part else None
        sim.add_movie(
            title=movie.title,
            year=movie.year or 0,
            tmdb_id=tmdb or 9_000_000 + n,
            imdb_id=imdb,
            path=folder,
            file=relative,
            size=part.size if part else 0,
            tags=[1] if n % 7 == 3 else [],
        )
        used += part.size if part else 0
    sim.stock(root=arr_prefix, used=used, disk_total=40 * 10**12)
    sim.exclusions.add(11, {"tmdbId": 11, "movieTitle": "Deleted Long Ago", "movieYear": 1977})
    return sim


def _ids(item: Any) -> tuple[int | None, str | None]:
    tmdb = imdb = None
    tags = list(item.guid_tags)
    guid = item.guid or ""
    if "agents.themoviedb://" in guid:
        tags.append("tmdb://" + guid.split("://", 1)[1].split("?")[0])
    if "agents.imdb://" in guid:
        tags.append("imdb://" + guid.split("://", 1)[1].split("?")[0])
    for tag in tags:
        scheme, _, value = tag.partition("://")
        if scheme == "tmdb" and tmdb is None:
            tmdb = int(value)
        elif scheme == "imdb" and imdb is None:
            imdb = value
    return tmdb, imdb
