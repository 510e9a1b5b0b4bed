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
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer{attrs(**values)}>\n{body}</MediaContainer>\n'


def server_root(library: Library, *, allow_media_deletion: bool) -> str:
    """`GET /`: what `PlexServer(baseurl, token)` loads."""
    dirs = "".join(
        f"<Directory{attrs(count='1', key=key, title=key)} />\n"
        for key in ("activities", "butler", "channels", "clients", "hubs", "library", "media")
    )
    return container(
        dirs,
        size="7",
        allowCameraUpload="0",
        allowChannelAccess="1",
        allowMediaDeletion="1" if allow_media_deletion else "0",
        allowSharing="1",
        allowSync="1",
        backgroundProcessing="1",
        friendlyName=library.friendly_name,
        machineIdentifier=library.machine_identifier,
        multiuser="1",
        myPlex="0",
        platform="Linux",
        platformVersion="6.1",
        transcoderActiveVideoSessions="0",
        updatedAt="1700000000",
        version=SERVER_VERSION,
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
        identifier="com.plexapp.plugins.library",
        mediaTagPrefix="/system/bundle/media/flags/",
        mediaTagVersion=MEDIA_TAG_VERSION,
        title1="Plex Library",
        title2="",
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
        identifier="com.plexapp.plugins.library",
        mediaTagPrefix="/system/bundle/media/flags/",
        mediaTagVersion=MEDIA_TAG_VERSION,
        title1="Plex Library",
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


def movie(m: Movie, section: Section, *, include_guids: bool, details: bool = False) -> str:
    head = attrs(
        ratingKey=m.rating_key,
        key=f"/library/metadata/{m.rating_key}",
        guid=m.guid,
        type="movie",
        title=m.title,
        **_section_attrs(section),
        contentRating="PG-13",
        summary="",
        year=m.year,
        thumb=f"/library/metadata/{m.rating_key}/thumb/{m.updated_at}",
        duration=m.duration_ms,
        addedAt=m.added_at,
        updatedAt=m.updated_at,
    )
    guids = _guids(m.guid_tags) if include_guids else ""
    return f"<Video{head}>\n{_media(m.media, m.duration_ms, m.updated_at)}{guids}</Video>\n"


def show(s: Show, section: Section, *, include_guids: bool, details: bool = False) -> str:
    """A show; its details (`/library/metadata/ID`) also name its section, as PMS does."""
    leaves = sum(len(season.episodes) for season in s.seasons)
    head = attrs(
        ratingKey=s.rating_key,
        key=f"/library/metadata/{s.rating_key}/children",
        guid=s.guid,
        type="show",
        title=s.title,
        **(_section_attrs(section) if details else {}),
        contentRating="TV-14",
        summary="",
        index="1",
        year=s.year,
        thumb=f"/library/metadata/{s.rating_key}/thumb/{s.updated_at}",
        leafCount=leaves,
        viewedLeafCount="0",
        childCount=len(s.seasons),
        addedAt=s.added_at,
        updatedAt=s.updated_at,
    )
    guids = _guids(s.guid_tags) if include_guids else ""
    return f"<Directory{head}>\n{guids}</Directory>\n"


def season(se: Season, section: Section, *, include_guids: bool, details: bool = False) -> str:
    sh = se.show
    head = attrs(
        ratingKey=se.rating_key,
        key=f"/library/metadata/{se.rating_key}/children",
        parentRatingKey=sh.rating_key,
        guid=se.guid,
        parentGuid=sh.guid,
        type="season",
        title=se.title,
        **(_section_attrs(section) if details else {}),
        parentKey=f"/library/metadata/{sh.rating_key}",
        parentTitle=sh.title,
        summary="",
        index=se.index,
        parentIndex="1",
        parentYear=sh.year,
        thumb=f"/library/metadata/{se.rating_key}/thumb/{se.updated_at}",
        leafCount=len(se.episodes),
        viewedLeafCount="0",
        addedAt=se.added_at,
        updatedAt=se.updated_at,
    )
    return f"<Directory{head}>\n</Directory>\n"


def episode(e: Episode, section: Section, *, include_guids: bool, details: bool = False) -> str:
    se = e.season
    sh = se.show
    head = attrs(
        ratingKey=e.rating_key,
        key=f"/library/metadata/{e.rating_key}",
        parentRatingKey=se.rating_key,
        grandparentRatingKey=sh.rating_key,
        guid=e.guid,
        parentGuid=se.guid,
        grandparentGuid=sh.guid,
        type="episode",
        title=e.title,
        grandparentKey=f"/library/metadata/{sh.rating_key}",
        parentKey=f"/library/metadata/{se.rating_key}",
        **_section_attrs(section),
        grandparentTitle=sh.title,
        parentTitle=se.title,
        contentRating="TV-14",
        summary="",
        index=e.index,
        parentIndex=se.index,
        year=e.year,
        thumb=f"/library/metadata/{e.rating_key}/thumb/{e.updated_at}",
        duration=e.duration_ms,
        addedAt=e.added_at,
        updatedAt=e.updated_at,
    )
    guids = _guids(e.guid_tags) if include_guids else ""
    return f"<Video{head}>\n{_media(e.media, e.duration_ms, e.updated_at)}{guids}</Video>\n"


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
        identifier="com.plexapp.plugins.library",
        librarySectionID=section.key,
        librarySectionTitle=section.title,
        librarySectionUUID=section.uuid,
        mediaTagPrefix="/system/bundle/media/flags/",
        mediaTagVersion=MEDIA_TAG_VERSION,
        nocache="1",
        thumb=f"/:/resources/{section.type}.png",
        title1=section.title,
        viewGroup=view_group,
        viewMode="131122",
        **extra,
    )
