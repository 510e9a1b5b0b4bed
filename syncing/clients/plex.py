"""The Plex client: the only module that speaks to Plex, always through plexapi's PlexServer.

Sections and deletion go through plexapi objects. The bulk listing goes through
`PlexServer.query()` with the paging headers and reads the returned XML elements
directly: measured on 100k episodes, building plexapi objects costs ~4x the fetch+parse
time and holds the whole list in memory, and any attribute missing from a listing (legacy
GUIDs have no `<Guid>` tags) triggers one reload request per item. Auto-reload is turned
off for every object this module builds, so no per-item request can slip in.

Everything returned is a plain dataclass; every failure is a `PlexError` whose message
names the server URL and the cause, never the token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode
from xml.etree.ElementTree import Element, ParseError

import requests
from plexapi import exceptions as plex_exc
from plexapi.server import PlexServer

from syncing.clients.errors import ClientError, redact

# Plex `type=` numbers for the section listing.
TYPE_NUMBERS = {"movie": 1, "show": 2, "season": 3, "episode": 4}
SECTION_TYPES = ("movie", "show")


class PlexError(ClientError):
    """Any failure talking to Plex; the message is one line and never holds the token."""


class PlexAuthError(PlexError):
    """Plex refused the token (401)."""


class PlexUnreachable(PlexError):
    """Connection refused, DNS failure or timeout."""


class PlexNotFound(PlexError):
    """The item or section is not (or no longer) on the server (404)."""


class PlexResponseError(PlexError):
    """Plex answered, but with an error status or a body that is not valid Plex XML."""


@dataclass(frozen=True, slots=True)
class PlexServerInfo:
    machine_identifier: str
    friendly_name: str
    version: str
    allow_media_deletion: bool


@dataclass(frozen=True, slots=True)
class PlexSection:
    key: str
    title: str
    type: str  # movie | show | artist | photo
    uuid: str
    locations: tuple[str, ...]


@dataclass(slots=True)
class PlexItem:
    """One movie, show, season or episode, with every field the library sync stores.

    For seasons the parent is the show; for episodes the parent is the season and the
    grandparent the show (Plex's own parent/grandparent semantics).
    """

    plex_id: int
    type: str
    title: str
    guid: str
    year: int | None = None
    imdb_id: str | None = None
    tmdb_id: str | None = None
    tvdb_id: str | None = None
    added_at: datetime | None = None
    updated_at: datetime | None = None
    duration_ms: int | None = None
    parent_plex_id: int | None = None
    grandparent_plex_id: int | None = None
    parent_title: str | None = None
    grandparent_title: str | None = None
    season_number: int | None = None
    episode_number: int | None = None
    file_path: str | None = None
    file_size_bytes: int | None = None
    section_key: str | None = None


@dataclass(frozen=True, slots=True)
class PlexSession:
    """Something being played right now (`/status/sessions`)."""

    plex_id: int
    parent_plex_id: int | None
    grandparent_plex_id: int | None
    title: str
    user: str


@dataclass(frozen=True, slots=True)
class PlexCollectionChange:
    """What keeping one collection did (`key` is its ratingKey, to store)."""

    key: int
    created: bool
    added: int
    removed: int


@dataclass(slots=True)
class PlexPage:
    items: list[PlexItem]
    offset: int
    total: int | None  # the container's totalSize (None when the server omitted it)


# --- GUID parsing ---------------------------------------------------------------------

_LEGACY = re.compile(r"^com\.plexapp\.agents\.(?P<agent>[a-z]+)://(?P<rest>[^?]*)")


def external_ids(guid: str, guid_tags: list[str] | tuple[str, ...]) -> dict[str, str | None]:
    """imdb/tmdb/tvdb ids from `<Guid id="imdb://…">` tags, else from a legacy agent GUID.

    Legacy TVDB GUIDs look like `thetvdb://SHOW[/SEASON[/EPISODE]]`: the id there is the
    show's, so it is only taken for the show itself; a season or episode would otherwise
    carry its show's id as if it were its own.
    """
    ids: dict[str, str | None] = {"imdb_id": None, "tmdb_id": None, "tvdb_id": None}
    for tag in guid_tags:
        scheme, _, value = tag.partition("://")
        if value and scheme in ("imdb", "tmdb", "tvdb") and not ids[f"{scheme}_id"]:
            ids[f"{scheme}_id"] = value
    if any(ids.values()) or not guid:
        return ids
    match = _LEGACY.match(guid)
    if not match:
        return ids
    agent, rest = match["agent"], match["rest"].strip("/")
    if agent == "imdb" and rest.startswith("tt"):
        ids["imdb_id"] = rest.split("/")[0]
    elif agent == "themoviedb" and rest.split("/")[0].isdigit():
        ids["tmdb_id"] = rest.split("/")[0]
    elif agent == "thetvdb" and rest.isdigit():
        ids["tvdb_id"] = rest
    return ids


# --- XML element → PlexItem -------------------------------------------------------------


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        try:
            return int(float(value))
        except ValueError:
            return None


def _epoch(value: str | None) -> datetime | None:
    seconds = _int(value)
    if seconds is None or seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def _file_and_size(elem: Element) -> tuple[str | None, int | None]:
    """The first part's file and the size of every part of every version together."""
    path, size = None, None
    for media in elem.findall("Media"):
        for part in media.findall("Part"):
            if path is None:
                path = part.attrib.get("file")
            part_size = _int(part.attrib.get("size"))
            if part_size is not None:
                size = (size or 0) + part_size
    return path, size


def item_from_element(elem: Element, *, section_key: str | None = None) -> PlexItem:
    """Read one `<Video>`/`<Directory>` listing element (no extra requests, ever)."""
    a = elem.attrib
    kind = a.get("type", "")
    plex_id = _int(a.get("ratingKey"))
    if plex_id is None:
        raise PlexResponseError(f"Plex listed a {kind or 'item'} without a ratingKey")
    guid = a.get("guid", "")
    tags = [g.attrib.get("id", "") for g in elem.findall("Guid")]
    path, size = _file_and_size(elem)
    item = PlexItem(
        plex_id=plex_id,
        type=kind,
        title=a.get("title", ""),
        guid=guid,
        year=_int(a.get("year")),
        added_at=_epoch(a.get("addedAt")),
        updated_at=_epoch(a.get("updatedAt")),
        duration_ms=_int(a.get("duration")),
        file_path=path,
        file_size_bytes=size,
        section_key=a.get("librarySectionID") or section_key,
        **external_ids(guid, tags),
    )
    if kind == "season":
        item.parent_plex_id = _int(a.get("parentRatingKey"))
        item.parent_title = a.get("parentTitle")
        item.season_number = _int(a.get("index"))
    elif kind == "episode":
        item.parent_plex_id = _int(a.get("parentRatingKey"))
        item.grandparent_plex_id = _int(a.get("grandparentRatingKey"))
        item.parent_title = a.get("parentTitle")
        item.grandparent_title = a.get("grandparentTitle")
        item.season_number = _int(a.get("parentIndex"))
        item.episode_number = _int(a.get("index"))
    return item


def _stamp(item: PlexItem, field: str) -> int:
    value = item.updated_at if field == "updatedAt" else item.added_at
    return int(value.timestamp()) if value else 0


# --- the client -------------------------------------------------------------------------


class PlexClient:
    """One Plex server. Connects lazily (the first call loads `GET /`).

    `requests_made` counts every HTTP request sent through this client (a session hook),
    which the sync reports and the tests bound.
    """

    def __init__(self, base_url: str, token: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.shown_url = redact(self.base_url)  # for messages: user:pass in a URL is masked
        self.timeout = timeout
        self._token = token
        self._server: PlexServer | None = None
        self.requests_made = 0
        self._session = requests.Session()
        self._session.hooks["response"].append(self._count)

    def __repr__(self) -> str:  # never show the token
        return f"<PlexClient {self.shown_url}>"

    def _count(self, response, *args, **kwargs):
        self.requests_made += 1
        return response

    @property
    def server(self) -> PlexServer:
        if self._server is None:
            with self._errors("connecting"):
                server = PlexServer(
                    self.base_url, self._token, session=self._session, timeout=self.timeout
                )
            server._autoReload = False
            self._server = server
        return self._server

    def close(self) -> None:
        self._session.close()

    # --- reads ---------------------------------------------------------------------------
    def server_info(self) -> PlexServerInfo:
        s = self.server
        return PlexServerInfo(
            machine_identifier=s.machineIdentifier or "",
            friendly_name=s.friendlyName or "",
            version=s.version or "",
            allow_media_deletion=bool(s.allowMediaDeletion),
        )

    def sections(self) -> list[PlexSection]:
        """Every library section on the server (`GET /library/sections`, fresh each call)."""
        server = self.server
        with self._errors("listing library sections"):
            library = server.library
            library._invalidateCachedProperties()  # plexapi caches sections; we want them fresh
            found = library.sections()
            result = []
            for sec in found:
                sec._autoReload = False
                result.append(
                    PlexSection(
                        key=str(sec.key),
                        title=sec.title or "",
                        type=sec.type or "",
                        uuid=sec.uuid or "",
                        locations=tuple(sec.locations),
                    )
                )
        return result

    def count_items(self, section_key: str, media_type: str) -> int:
        """How many items of `media_type` a section holds (a zero-size page: one request)."""
        root = self._query(self._listing_key(section_key, media_type, guids=False), 0, 0)
        return _int(root.attrib.get("totalSize")) or _int(root.attrib.get("size")) or 0

    def iter_pages(
        self, section_key: str, media_type: str, *, page_size: int = 1000
    ) -> Iterator[PlexPage]:
        """Yield a section's items of one type a page at a time (one request per page).

        While the caller stores a page, the next one is already being fetched and parsed
        in a helper thread, so Plex's work and the network wait overlap our database
        writes (at most two pages are in memory). Stops at `totalSize`; if a server leaves
        `totalSize` out it reads on until a short page, where plexapi would silently stop
        after the first page.
        """
        key = self._listing_key(section_key, media_type, guids=True)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plex-page")
        try:
            pending = pool.submit(self._page, key, section_key, media_type, 0, page_size)
            while True:
                page, count = pending.result()
                offset = page.offset + count
                done = count == 0 or (
                    offset >= page.total if page.total is not None else count < page_size
                )
                if not done:
                    pending = pool.submit(
                        self._page, key, section_key, media_type, offset, page_size
                    )
                yield page
                if done:
                    return
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _page(
        self, key: str, section_key: str, media_type: str, offset: int, size: int
    ) -> tuple[PlexPage, int]:
        """One listing page as PlexItems, and how many elements the container said it holds."""
        root = self._query(key, offset, size)
        items = [
            item_from_element(elem, section_key=section_key)
            for elem in root
            if elem.attrib.get("type") == media_type
        ]
        count = _int(root.attrib.get("size"))
        total = _int(root.attrib.get("totalSize"))
        return PlexPage(items=items, offset=offset, total=total), len(
            root
        ) if count is None else count

    def sessions(self) -> list[PlexSession]:
        """What Plex is playing right now (`GET /status/sessions`, read from the XML).

        Asked of Plex itself just before a deletion: Tautulli's activity call answers an
        empty success when it cannot reach Plex, which would read as "nothing playing".
        """
        server = self.server
        with self._errors("reading /status/sessions"):
            root = server.query("/status/sessions")
        if root is None or root.tag != "MediaContainer":
            raise PlexResponseError(
                f"Plex at {self.shown_url} sent an unexpected reply for /status/sessions"
            )
        result = []
        for elem in root:
            key = _int(elem.attrib.get("ratingKey"))
            if key is None:
                continue
            user = elem.find("User")
            result.append(
                PlexSession(
                    plex_id=key,
                    parent_plex_id=_int(elem.attrib.get("parentRatingKey")),
                    grandparent_plex_id=_int(elem.attrib.get("grandparentRatingKey")),
                    title=elem.attrib.get("title", ""),
                    user=user.attrib.get("title", "") if user is not None else "",
                )
            )
        return result

    def iter_changed(
        self, section_key: str, media_type: str, *, since: int, page_size: int = 1000
    ) -> Iterator[PlexPage]:
        """A section's items of one type added or updated after `since` (epoch seconds).

        Two listings, `updatedAt>>=` then `addedAt>>=` (each sorted newest first, so a
        server that ignored the filter still lets us stop at the first older item); an
        item found by both is yielded once. With few changes: one request per listing.
        """
        seen: set[int] = set()
        for field in ("updatedAt", "addedAt"):
            key = self._changed_key(section_key, media_type, field, since)
            offset = 0
            while True:
                page, count = self._page(key, section_key, media_type, offset, page_size)
                fresh = [i for i in page.items if _stamp(i, field) > since]
                older_reached = len(fresh) < len(page.items)  # newest first: the rest is older
                page.items = [i for i in fresh if i.plex_id not in seen]
                seen.update(i.plex_id for i in page.items)
                yield page
                offset += count
                if count == 0 or older_reached:
                    break
                if offset >= page.total if page.total is not None else count < page_size:
                    break

    def fetch_items(self, plex_ids: list[int], *, chunk: int = 100) -> dict[int, PlexItem]:
        """Details of several items, `chunk` keys per request (`/library/metadata/1,2,3`).

        Keys missing from the answer (a 404 when none of a chunk exists) are not on the
        server any more; they are simply absent from the result.
        """
        found: dict[int, PlexItem] = {}
        for start in range(0, len(plex_ids), chunk):
            keys = ",".join(str(k) for k in plex_ids[start : start + chunk])
            try:
                root = self._query(f"/library/metadata/{keys}", 0, chunk)
            except PlexNotFound:
                continue
            section = root.attrib.get("librarySectionID")
            for elem in root:
                if elem.attrib.get("type") in TYPE_NUMBERS:
                    item = item_from_element(elem, section_key=section)
                    found[item.plex_id] = item
        return found

    def descendants(self, plex_id: int, kind: str, *, page_size: int = 1000) -> list[PlexItem]:
        """A show's seasons and episodes, or a season's episodes (2 or 1 listings)."""
        paths = ["children", "allLeaves"] if kind == "show" else ["children"]
        items: list[PlexItem] = []
        for sub in paths:
            key = f"/library/metadata/{plex_id}/{sub}?includeGuids=1"
            offset = 0
            while True:
                root = self._query(key, offset, page_size)
                section = root.attrib.get("librarySectionID")
                items += [
                    item_from_element(e, section_key=section)
                    for e in root
                    if e.attrib.get("type") in ("season", "episode")
                ]
                offset += len(root)
                total = _int(root.attrib.get("totalSize"))
                if len(root) == 0 or (offset >= total if total is not None else True):
                    break
        return items

    def item_exists(self, plex_id: int) -> bool:
        """Is this item still in Plex (`GET /library/metadata/{key}`: 404 means gone)?

        Used after a worker died mid-deletion, to learn whether its DELETE went through.
        """
        try:
            self._query(f"/library/metadata/{int(plex_id)}", 0, 1)
        except PlexNotFound:
            return False
        return True

    # --- writes ---------------------------------------------------------------------------
    def delete_item(self, plex_id: int) -> None:
        """Delete a movie, show, season or episode and its files (plexapi `item.delete()`).

        Needs "Allow media deletion" on the server; a refusal raises PlexResponseError.
        """
        server = self.server
        with self._errors(f"deleting item {plex_id}"):
            item = server.fetchItem(int(plex_id))
            item._autoReload = False
            item.delete()

    def section_refresh(self, section_key: str, path: str) -> None:
        """Ask Plex to rescan one folder of a section (after Radarr/Sonarr deleted files)."""
        server = self.server
        key = f"/library/sections/{section_key}/refresh?{urlencode({'path': path})}"
        with self._errors(f"asking section {section_key} to rescan"):
            server.query(key)

    # --- "Leaving soon" collections --------------------------------------------------------
    def collection_keep(
        self,
        *,
        section_key: str,
        key: int | None,
        title: str,
        item_keys: list[int],
        summary: str,
        sort_title: str,
        visible: bool,
    ) -> PlexCollectionChange | None:
        """Make the static collection `key` hold exactly `item_keys`, by difference (add
        what is new, remove what left); re-create it when it is gone. Only ever reads or
        writes that one collection. None when there is nothing to hold and no collection."""
        with self._errors(f"keeping the collection “{title}”"):
            collection = self._collection_get(key, section_key)
            if collection is None and not item_keys:
                return None
            if collection is None:
                collection = self._collection_create(section_key, title, item_keys)
                change = PlexCollectionChange(collection.ratingKey, True, len(item_keys), 0)
            else:
                change = self._collection_diff(collection, item_keys)
            self._collection_fields(collection, title, summary, sort_title)
            self._collection_visibility(collection, visible)
        return change

    def _collection_get(self, key: int | None, section_key: str):
        """The collection by its stored ratingKey (never by title); None when gone, or when
        the key now names something else (a Plex that numbers its items anew): even another
        section's collection is not ours to touch."""
        if key is None:
            return None
        try:
            found = self.server.fetchItem(int(key))
        except plex_exc.NotFound:
            return None
        found._autoReload = False
        ours = str(getattr(found, "librarySectionID", "")) == str(section_key)
        return found if ours and getattr(found, "type", "") == "collection" else None

    def _items_get(self, keys) -> list:
        """The Plex objects of `keys` in one request (`/library/metadata/1,2,3`)."""
        items = self.server.fetchItems(f"/library/metadata/{','.join(map(str, sorted(keys)))}")
        for item in items:
            item._autoReload = False
        return items

    def _collection_create(self, section_key: str, title: str, keys: list[int]):
        section = self.server.library.sectionByID(int(section_key))
        created = self.server.createCollection(title, section, items=self._items_get(keys))
        created._autoReload = False
        return created

    def _collection_diff(self, collection, keys: list[int]) -> PlexCollectionChange:
        have = {item.ratingKey: item for item in collection.items()}
        add, remove = set(keys) - have.keys(), [have[k] for k in have.keys() - set(keys)]
        if add:
            collection.addItems(self._items_get(add))
        if remove:
            collection.removeItems(remove)
        return PlexCollectionChange(collection.ratingKey, False, len(add), len(remove))

    @staticmethod
    def _collection_fields(collection, title: str, summary: str, sort_title: str) -> None:
        """Title, summary and sort title in one edit, only when one of them changed."""
        if (collection.title, collection.summary or "", collection.titleSort) == (
            title, summary, sort_title,
        ):  # fmt: skip
            return
        collection.batchEdits()
        collection.editTitle(title).editSummary(summary).editSortTitle(sort_title)
        collection.saveEdits()

    @staticmethod
    def _collection_visibility(collection, visible: bool) -> None:
        hub = collection.visibility()
        flags = (hub.promotedToRecommended, hub.promotedToOwnHome, hub.promotedToSharedHome)
        if visible and not all(flags):
            hub.updateVisibility(recommended=True, home=True, shared=True)
        elif not visible and hub._promoted and any(flags):
            hub.updateVisibility(recommended=False, home=False, shared=False)

    # --- plumbing ---------------------------------------------------------------------------
    @staticmethod
    def _listing_key(section_key: str, media_type: str, *, guids: bool) -> str:
        params = {"includeGuids": 1 if guids else 0, "type": TYPE_NUMBERS[media_type]}
        return f"/library/sections/{section_key}/all?{urlencode(params)}"

    @staticmethod
    def _changed_key(section_key: str, media_type: str, field: str, since: int) -> str:
        """The filtered listing, with the type prefix plexapi uses for a section's sub-types."""
        prefix = "" if media_type in SECTION_TYPES else f"{media_type}."
        params = {
            "includeGuids": 1,
            "sort": f"{prefix}{field}:desc",
            "type": TYPE_NUMBERS[media_type],
            f"{prefix}{field}>>": int(since),
        }
        return f"/library/sections/{section_key}/all?{urlencode(params)}"

    def _query(self, key: str, start: int, size: int) -> Element:
        headers = {"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(size)}
        server = self.server
        with self._errors(f"reading {key.split('?')[0]}"):
            root = server.query(key, headers=headers)
        if root is None or root.tag != "MediaContainer":
            raise PlexResponseError(
                f"Plex at {self.shown_url} sent an unexpected reply for {key.split('?')[0]} "
                f"(no MediaContainer)"
            )
        return root

    @contextmanager
    def _errors(self, doing: str):
        """Turn plexapi/requests/XML failures into one-line PlexErrors without the token."""
        where = f"Plex at {self.shown_url}"
        try:
            yield
        except PlexError:
            raise
        except plex_exc.Unauthorized:
            raise PlexAuthError(f"{where} rejected the token (401) while {doing}") from None
        except plex_exc.NotFound:
            raise PlexNotFound(f"{where}: not found (404) while {doing}") from None
        except plex_exc.BadRequest as exc:
            status = re.match(r"\((\d+)\)", str(exc))
            code = f"HTTP {status.group(1)}" if status else "an error"
            raise PlexResponseError(f"{where} answered {code} while {doing}") from None
        except requests.exceptions.Timeout:
            raise PlexUnreachable(
                f"{where} did not answer within {self.timeout:g}s while {doing}"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise PlexUnreachable(
                f"Cannot reach {where} while {doing}: {type(exc).__name__}"
            ) from None
        except ParseError as exc:
            raise PlexResponseError(f"{where} sent malformed XML while {doing}: {exc}") from None
