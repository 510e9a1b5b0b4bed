"""A generated, deterministic Plex library for the simulators, tests, benchmarks and demo.

Shapes follow what a real Plex Media Server holds: movie and show sections; shows with
seasons (sometimes a season 0 of specials) and episodes; modern `plex://` GUIDs with
imdb/tmdb/tvdb Guid tags beside legacy agent GUIDs; remakes sharing a show title;
multi-version and multi-part (stacked) media; a few items with no media at all.

Objects use __slots__ and episodes reach their season and show titles through parent
references, so 100k episodes + 10k movies stay around 100 MB. Every item exposes the
fields the Tautulli simulator needs: rating_key, parent/grandparent rating keys,
media_type, title, parent/grandparent titles, season/episode numbers, guid, duration_ms.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import attrgetter

# 2023-11-14 22:13:20 UTC; everything is added in the three years before it.
BASE_EPOCH = 1_700_000_000
THREE_YEARS = 3 * 365 * 86_400

MOVIE_WORDS = [
    "Silent",
    "Harbor",
    "Midnight",
    "Glass",
    "River",
    "Crimson",
    "Echo",
    "Paper",
    "Winter",
    "Iron",
    "Velvet",
    "Hollow",
    "Northern",
    "Last",
    "Golden",
    "Broken",
    "Secret",
    "Quiet",
    "Wild",
    "Distant",
    "Electric",
    "Fading",
    "Burning",
]
NOUNS = [
    "Garden",
    "Signal",
    "Empire",
    "Station",
    "Orchard",
    "Voyage",
    "Machine",
    "Kingdom",
    "Letters",
    "Frontier",
    "Lantern",
    "Harvest",
    "Archive",
    "Tide",
    "Circuit",
    "Meadow",
    "Compass",
    "Parade",
    "Horizon",
    "Anthem",
]


def _follow(dotted: str) -> property:
    """A read-only field reached through the parent references (`"season.show.title"`)."""
    return property(attrgetter(dotted))


class _TopLevel:
    """What a movie or a show has none of: parents, season and episode numbers."""

    __slots__ = ()
    parent_rating_key = grandparent_rating_key = None
    parent_title = grandparent_title = None
    season_number = episode_number = None


@dataclass(slots=True)
class Part:
    """One file of a media version (`<Part file size>`)."""

    id: int
    file: str
    size: int


@dataclass(slots=True)
class MediaVersion:
    """One version of an item (`<Media>`); several parts = a stacked multi-file item."""

    id: int
    parts: list[Part]
    video_resolution: str = "1080"
    container: str = "mkv"


@dataclass(slots=True, eq=False)
class _Item:
    """What a movie, a show and an episode each hold of their own."""

    rating_key: int
    title: str
    year: int | None
    guid: str
    guid_tags: tuple[str, ...]
    added_at: int
    updated_at: int


@dataclass(slots=True, eq=False)
class _Video(_Item):
    """What a movie and an episode both hold: they play, so they have media and a length."""

    duration_ms: int
    media: list[MediaVersion]


@dataclass(slots=True, eq=False)
class Movie(_Video, _TopLevel):
    section_key: str = "1"
    media_type = "movie"


@dataclass(slots=True, eq=False)
class Show(_Item, _TopLevel):
    section_key: str = "2"
    seasons: list[Season] = field(default_factory=list)
    media_type = "show"
    duration_ms = 0

    def episodes(self) -> Iterator[Episode]:
        for season in self.seasons:
            yield from season.episodes


@dataclass(slots=True, eq=False)
class Season:
    rating_key: int
    show: Show
    index: int
    title: str
    guid: str
    added_at: int
    updated_at: int
    episodes: list[Episode] = field(default_factory=list)
    media_type = "season"

    grandparent_rating_key = None
    grandparent_title = None
    episode_number = None
    duration_ms = 0

    @property
    def guid_tags(self) -> tuple[str, ...]:
        return ()

    @property
    def year(self) -> int | None:
        return None

    parent_rating_key = _follow("show.rating_key")
    parent_title = _follow("show.title")
    season_number = _follow("index")
    section_key = _follow("show.section_key")


@dataclass(slots=True, eq=False)
class Episode(_Video):
    season: Season
    index: int
    media_type = "episode"

    parent_rating_key = _follow("season.rating_key")
    grandparent_rating_key = _follow("season.show.rating_key")
    parent_title = _follow("season.title")
    grandparent_title = _follow("season.show.title")
    season_number = _follow("season.index")
    episode_number = _follow("index")
    show = _follow("season.show")
    section_key = _follow("season.show.section_key")


Item = Movie | Show | Season | Episode


@dataclass(slots=True, eq=False)
class Section:
    key: str
    title: str
    type: str  # "movie" | "show"
    location: str
    uuid: str
    items: list = field(default_factory=list)  # movies, or shows (seasons/episodes below)


@dataclass(slots=True, eq=False)
class Library:
    """A whole server's library: sections holding movies or shows."""

    sections: list[Section]
    machine_identifier: str = "smartplex-sim-0000000000000000"
    friendly_name: str = "SmartPlex Simulator"

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == str(key):
                return section
        raise KeyError(key)

    def iter_items(self) -> Iterator[Item]:
        """Every item, top-down: movies, then each show followed by its seasons and episodes."""
        for section in self.sections:
            for top in section.items:
                yield top
                if isinstance(top, Show):
                    for season in top.seasons:
                        yield season
                        yield from season.episodes

    @property
    def movies(self) -> list[Movie]:
        return [m for s in self.sections if s.type == "movie" for m in s.items]

    @property
    def shows(self) -> list[Show]:
        return [m for s in self.sections if s.type == "show" for m in s.items]

    def episodes(self) -> Iterator[Episode]:
        for show in self.shows:
            yield from show.episodes()


class _Keys:
    """Hands out rating keys and media/part ids in generation order (deterministic)."""

    def __init__(self, start: int):
        self.rating_key = start
        self.media_id = start * 10
        self.part_id = start * 20

    def next_key(self) -> int:
        self.rating_key += 1
        return self.rating_key - 1

    def next_media(self) -> int:
        self.media_id += 1
        return self.media_id

    def next_part(self) -> int:
        self.part_id += 1
        return self.part_id


def _hex24(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def _media(
    rng: random.Random, keys: _Keys, base_path: str, duration_ms: int, *, n: int
) -> list[MediaVersion]:
    """Media versions for item number `n`: mostly one file; every 13th has two versions,
    every 17th is stacked in two parts, every 29th has no media at all (small libraries
    get each case too)."""
    if n % 29 == 11:
        return []
    versions = 2 if n % 13 == 5 else 1
    parts = 2 if n % 17 == 6 else 1
    media = []
    for v in range(versions):
        resolution = "1080" if v == 0 else "2160"
        files = []
        for p in range(parts):
            suffix = (f" - {resolution}p" if versions > 1 else "") + (
                f" - pt{p + 1}" if parts > 1 else ""
            )
            size = rng.randrange(300_000_000, 4_000_000_000) * (3 if v else 1)
            files.append(Part(keys.next_part(), f"{base_path}{suffix}.mkv", size))
        media.append(MediaVersion(keys.next_media(), files, video_resolution=resolution))
    return media


def _movie_guids(rng: random.Random, n: int) -> tuple[str, tuple[str, ...]]:
    """Most movies use the new Plex agent; some the legacy imdb/themoviedb agents; a few
    are unmatched local items."""
    imdb = f"tt{rng.randrange(100_000, 9_999_999):07d}"
    tmdb = str(rng.randrange(10, 900_000))
    kind = n % 10
    if kind == 7:
        return f"com.plexapp.agents.imdb://{imdb}?lang=en", ()
    if kind == 8:
        return f"com.plexapp.agents.themoviedb://{tmdb}?lang=en", ()
    if n % 20 == 9:
        return f"local://{n}", ()
    return f"plex://movie/{_hex24(rng)}", (f"imdb://{imdb}", f"tmdb://{tmdb}")


def _title(rng: random.Random, n: int) -> str:
    return f"The {rng.choice(MOVIE_WORDS)} {rng.choice(NOUNS)} {n}"


def generate_movies(
    rng: random.Random, keys: _Keys, *, count: int, section_key: str = "1"
) -> list[Movie]:
    movies = []
    for n in range(count):
        title = _title(rng, n)
        year = 1950 + rng.randrange(75)
        guid, tags = _movie_guids(rng, n)
        added = BASE_EPOCH - rng.randrange(THREE_YEARS)
        duration = rng.randrange(80, 180) * 60_000
        path = f"/data/movies/{title} ({year})/{title} ({year})"
        movies.append(
            Movie(
                rating_key=keys.next_key(),
                title=title,
                year=year,
                guid=guid,
                guid_tags=tags,
                added_at=added,
                updated_at=added + rng.randrange(86_400 * 30),
                duration_ms=duration,
                media=_media(rng, keys, path, duration, n=n),
                section_key=section_key,
            )
        )
    return movies


def generate_shows(
    rng: random.Random,
    keys: _Keys,
    *,
    count: int,
    seasons_per_show: int,
    episodes_per_season: int,
    section_key: str = "2",
) -> list[Show]:
    """Shows with seasons 1..N; every 4th show starts at season 0 (specials) instead, so
    the totals stay shows x seasons x episodes. Every 10th show reuses the title of the show
    five before it (a remake), so titles are not unique; every 5th show uses the legacy
    TVDB agent."""
    shows: list[Show] = []
    episode_n = 0
    for n in range(count):
        if n % 10 == 5:
            title = shows[n - 5].title
        else:
            title = f"{rng.choice(MOVIE_WORDS)} {rng.choice(NOUNS)} {n}"
        year = 1990 + rng.randrange(35)
        tvdb = rng.randrange(70_000, 450_000)
        legacy = n % 5 == 4
        added = BASE_EPOCH - rng.randrange(THREE_YEARS)
        show = Show(
            rating_key=keys.next_key(),
            title=title,
            year=year,
            guid=(
                f"com.plexapp.agents.thetvdb://{tvdb}?lang=en"
                if legacy
                else f"plex://show/{_hex24(rng)}"
            ),
            guid_tags=()
            if legacy
            else (
                f"imdb://tt{rng.randrange(100_000, 9_999_999):07d}",
                f"tmdb://{rng.randrange(1, 250_000)}",
                f"tvdb://{tvdb}",
            ),
            added_at=added,
            updated_at=added + 3600,
            section_key=section_key,
        )
        first = 0 if n % 4 == 2 else 1
        for s in range(first, first + seasons_per_show):
            season = Season(
                rating_key=keys.next_key(),
                show=show,
                index=s,
                title="Specials" if s == 0 else f"Season {s}",
                guid=(
                    f"com.plexapp.agents.thetvdb://{tvdb}/{s}?lang=en"
                    if legacy
                    else f"plex://season/{_hex24(rng)}"
                ),
                added_at=added,
                updated_at=added + 3600,
            )
            for e in range(1, episodes_per_season + 1):
                ep_added = added + (s * 100 + e) * 86_400 // 7
                duration = rng.randrange(20, 65) * 60_000
                ep_title = f"Episode {e}" if e % 4 else f"{rng.choice(NOUNS)} {e}"
                path = (
                    f"/data/tv/{title} ({year})/Season {s:02d}/"
                    f"{title} ({year}) - s{s:02d}e{e:02d} - {ep_title}"
                )
                season.episodes.append(
                    Episode(
                        rating_key=keys.next_key(),
                        season=season,
                        index=e,
                        title=ep_title,
                        year=year + max(s - 1, 0),
                        guid=(
                            f"com.plexapp.agents.thetvdb://{tvdb}/{s}/{e}?lang=en"
                            if legacy
                            else f"plex://episode/{_hex24(rng)}"
                        ),
                        guid_tags=()
                        if legacy
                        else (
                            f"imdb://tt{rng.randrange(100_000, 9_999_999):07d}",
                            f"tmdb://{rng.randrange(1, 5_000_000)}",
                            f"tvdb://{rng.randrange(1, 9_000_000)}",
                        ),
                        added_at=ep_added,
                        updated_at=ep_added + 600,
                        duration_ms=duration,
                        media=_media(rng, keys, path, duration, n=episode_n),
                    )
                )
                episode_n += 1
            show.seasons.append(season)
        shows.append(show)
    return shows


def generate_library(
    *,
    shows: int,
    seasons_per_show: int,
    episodes_per_season: int,
    movies: int,
    seed: int = 0,
    start_rating_key: int = 1000,
    machine_identifier: str | None = None,
    friendly_name: str = "SmartPlex Simulator",
) -> Library:
    """A deterministic library: the same arguments always give the same items and keys.

    Section "1" holds the movies, section "2" the shows. Rating keys are consecutive from
    `start_rating_key` (two simulated servers can share keys on purpose).
    """
    rng = random.Random(seed)
    keys = _Keys(start_rating_key)
    movie_section = Section("1", "Movies", "movie", "/data/movies", f"movies-{seed:08d}")
    show_section = Section("2", "TV Shows", "show", "/data/tv", f"tv-{seed:08d}")
    movie_section.items = generate_movies(rng, keys, count=movies, section_key="1")
    show_section.items = generate_shows(
        rng,
        keys,
        count=shows,
        seasons_per_show=seasons_per_show,
        episodes_per_season=episodes_per_season,
        section_key="2",
    )
    return Library(
        sections=[movie_section, show_section],
        machine_identifier=machine_identifier or f"smartplex-sim-{seed:016x}",
        friendly_name=friendly_name,
    )
