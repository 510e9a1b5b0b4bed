"""Render simulator library objects as Plex Media Server XML, element for element.

Element and attribute names, nesting (`<Part>` inside `<Media>`, `<Guid>` children after
the media) and container attributes follow real PMS responses (see the recorded fixtures
in shared/fixtures/plex and tests/test_plex_simulator.py, which holds them side by side).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from simulators.library import Episode, Library, MediaVersion, Movie, Season, Section, Show

_ATTR_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
MEDIA_TAG_VERSION = "1700000000"
SERVER_VERSION = "1.40.2.8395-c67dce28e"
# What every library MediaContainer says of the library itself.
LIBRARY = {
    "identifier": "com.plexapp.plugins.library",
    "mediaTagPrefix": "/system/bundle/media/flags/",
    "mediaTagVersion": MEDIA_TAG_VERSION,
}
# `GET /`'s attributes that no simulated server changes (a Linux server, no remote access).
SERVER_FLAGS = {
    "allowCameraUpload": "0",
    "allowChannelAccess": "1",
    "allowSharing": "1",
    "allowSync": "1",
    "backgroundProcessing": "1",
    "multiuser": "1",
    "myPlex": "0",
    "platform": "Linux",
    "platformVersion": "6.1",
    "transcoderActiveVideoSessions": "0",
    "updatedAt": "1700000000",
}


def attrs(**values) -> str:
    """` name="value"` pairs in the given order; None values are left out, as PMS does."""
    out = []
    for name, value in values.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else str(int(value))
        out.append(f' {name}="{escape(text, _ATTR_ESCAPES)}"')
    return "".join(out)


def container(body: str, **values) -> str:
    """A MediaContainer: `size` and `totalSize` first, then the other attributes in
    alphabetical order, as PMS writes them (see the recorded fixtures)."""
    head = {name: values.pop(name) for name in ("size", "totalSize") if name in values}
    ordered = head | dict(sorted(values.items()))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer{attrs(**ordered)}>\n{body}</MediaContainer>\n'


def server_root(library: Library, *, allow_media_deletion: bool) -> str:
    """`GET /`: what `PlexServer(baseurl, token)` loads."""
    dirs = "".join(
        f"<Directory{attrs(count='1', key=key, title=key)} />\n"
        for key in ("activities", "butler", "channels", "clients", "hubs", "library", "media")
    )
    return container(
        dirs,
        size="7",
        allowMediaDeletion="1" if allow_media_deletion else "0",
        friendlyName=library.friendly_name,
        machineIdentifier=library.machine_identifier,
        version=SERVER_VERSION,
        **SERVER_FLAGS,
    )


def identity(library: Library) -> str:
    return container(
        "",
        size="0",
        apiVersion="1.1.1",
        claimed="1",
        machineIdentifier=library.machine_identifier,
        version=SERVER_VERSION,
    )


def library_root() -> str:
    body = (
        f"<Directory{attrs(key='sections', title='Library Sections')} />\n"
        f"<Directory{attrs(key='recentlyAdded', title='Recently Added Content')} />\n"
        f"<Directory{attrs(key='onDeck', title='On Deck')} />\n"
    )
    return container(
        body,
        size="3",
        allowSync="0",
        art="/:/resources/library-art.png",
        content="",
        title1="Plex Library",
        title2="",
        **LIBRARY,
    )


def sections(library: Library) -> str:
    body = []
    for s in library.sections:
        agent = "tv.plex.agents.movie" if s.type == "movie" else "tv.plex.agents.series"
        scanner = "Plex Movie" if s.type == "movie" else "Plex TV Series"
        body.append(
            f"<Directory{attrs(allowSync='1', art=f'/:/resources/{s.type}-fanart.jpg', filters='1', refreshing='0', thumb=f'/:/resources/{s.type}.png', key=s.key, type=s.type, title=s.title, agent=agent, scanner=scanner, language='en-US', uuid=s.uuid, updatedAt='1700000000', createdAt='1600000000', scannedAt='1700000000', content='1', directory='1', contentChangedAt='1000', hidden='0')}>\n"
            f"<Location{attrs(id=s.key, path=s.location)} />\n"
            "</Directory>\n"
        )
    return container(
        "".join(body),
        size=str(len(library.sections)),
        allowSync="0",
        title1="Plex Library",
        **LIBRARY,
    )


def _section_attrs(section: Section) -> dict:
    return {
        "librarySectionID": section.key,
        "librarySectionKey": f"/library/sections/{section.key}",
        "librarySectionTitle": section.title,
    }


def _media(media: list[MediaVersion], duration_ms: int, updated_at: int) -> str:
    out = []
    for m in media:
        height = "2160" if m.video_resolution == "2160" else "1080"
        width = "3840" if height == "2160" else "1920"
        out.append(
            f"<Media{attrs(id=m.id, duration=duration_ms, bitrate=8000, width=width, height=height, aspectRatio='1.78', audioChannels=6, audioCodec='eac3', videoCodec='hevc', videoResolution=m.video_resolution, container=m.container, videoFrameRate='24p', videoProfile='main 10')}>\n"
        )
        for p in m.parts:
            out.append(
                f"<Part{attrs(id=p.id, key=f'/library/parts/{p.id}/{updated_at}/file.mkv', duration=duration_ms // len(m.parts), file=p.file, size=p.size, container=m.container, videoProfile='main 10')} />\n"
            )
        out.append("</Media>\n")
    return "".join(out)


def _guids(tags: tuple[str, ...]) -> str:
    return "".join(f'<Guid id="{escape(tag, _ATTR_ESCAPES)}" />\n' for tag in tags)


def _own(x: Movie | Show | Season | Episode, key: str = "") -> dict[str, object]:
    """The attributes every item carries about itself (`key` ends in /children for folders)."""
    return {
        "ratingKey": x.rating_key,
        "key": f"/library/metadata/{x.rating_key}{key}",
        "guid": x.guid,
        "type": x.media_type,
        "title": x.title,
    }


def _dates(x: Movie | Show | Season | Episode) -> dict[str, object]:
    return {
        "thumb": f"/library/metadata/{x.rating_key}/thumb/{x.updated_at}",
        "addedAt": x.added_at,
        "updatedAt": x.updated_at,
    }


def _above(x: Show | Season, role: str) -> dict[str, object]:
    """A parent's (or grandparent's) attributes on its child: `role` is "parent"/"grandparent"."""
    return {
        f"{role}RatingKey": x.rating_key,
        f"{role}Guid": x.guid,
        f"{role}Key": f"/library/metadata/{x.rating_key}",
        f"{role}Title": x.title,
    }


def _video(x: Movie | Episode, head: dict[str, object], include_guids: bool) -> str:
    guids = _guids(x.guid_tags) if include_guids else ""
    body = _media(x.media, x.duration_ms, x.updated_at)
    return f"<Video{attrs(**head, duration=x.duration_ms)}>\n{body}{guids}</Video>\n"


def movie(m: Movie, section: Section, *, include_guids: bool, details: bool = False) -> str:
    head = {**_own(m), **_section_attrs(section), "contentRating": "PG-13", "summary": ""}
    return _video(m, {**head, "year": m.year, **_dates(m)}, include_guids)


def show(s: Show, section: Section, *, include_guids: bool, details: bool = False) -> str:
    """A show; its details (`/library/metadata/ID`) also name its section, as PMS does."""
    head = attrs(
        **_own(s, "/children"),
        **(_section_attrs(section) if details else {}),
        contentRating="TV-14",
        summary="",
        index="1",
        year=s.year,
        leafCount=sum(len(season.episodes) for season in s.seasons),
        viewedLeafCount="0",
        childCount=len(s.seasons),
        **_dates(s),
    )
    guids = _guids(s.guid_tags) if include_guids else ""
    return f"<Directory{head}>\n{guids}</Directory>\n"


def season(se: Season, section: Section, *, include_guids: bool, details: bool = False) -> str:
    head = attrs(
        **_own(se, "/children"),
        **_above(se.show, "parent"),
        **(_section_attrs(section) if details else {}),
        summary="",
        index=se.index,
        parentIndex="1",
        parentYear=se.show.year,
        leafCount=len(se.episodes),
        viewedLeafCount="0",
        **_dates(se),
    )
    return f"<Directory{head}>\n</Directory>\n"


def episode(e: Episode, section: Section, *, include_guids: bool, details: bool = False) -> str:
    head = {
        **_own(e),
        **_above(e.season, "parent"),
        **_above(e.show, "grandparent"),
        **_section_attrs(section),
        "contentRating": "TV-14",
        "summary": "",
        "index": e.index,
        "parentIndex": e.season.index,
        "year": e.year,
    }
    return _video(e, {**head, **_dates(e)}, include_guids)


RENDERERS = {Movie: movie, Show: show, Season: season, Episode: episode}
VIEW_GROUPS = {1: "movie", 2: "show", 3: "season", 4: "episode"}


def item(obj, section: Section, *, include_guids: bool, details: bool = False) -> str:
    return RENDERERS[type(obj)](obj, section, include_guids=include_guids, details=details)


def listing(
    items: list,
    section: Section,
    *,
    include_guids: bool,
    view_group: str,
    total: int | None = None,
    offset: int | None = None,
    **extra,
) -> str:
    """A MediaContainer of items; `totalSize`/`offset` only when the request was paged."""
    body = "".join(item(obj, section, include_guids=include_guids) for obj in items)
    return container(
        body,
        size=str(len(items)),
        totalSize=None if total is None else str(total),
        offset=None if offset is None else str(offset),
        allowSync="1",
        art=f"/:/resources/{section.type}-fanart.jpg",
        librarySectionID=section.key,
        librarySectionTitle=section.title,
        librarySectionUUID=section.uuid,
        nocache="1",
        thumb=f"/:/resources/{section.type}.png",
        title1=section.title,
        viewGroup=view_group,
        viewMode="131122",
        **LIBRARY,
        **extra,
    )
