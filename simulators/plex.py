"""A Plex Media Server simulator: real HTTP on 127.0.0.1, Plex XML as plexapi 4.18 reads it.

Used by the tests, the benchmarks and the demo instead of a real server. It serves the
endpoints the sync and the deletion use (server root, identity, library sections, section
listings by type with header/query paging, `includeGuids`, `addedAt`/`updatedAt` filters
and sorts, item details (one key or several, comma-separated), children, allLeaves,
DELETE), checks the token, records every request, and can inject faults (HTTP errors,
malformed XML, delays) or change the library while it runs: `add_movie`, `add_episodes`,
`update_item`, `remove_item`. Each change is announced on `/:/websockets/notifications`
(a websocket, as PMS does) in Plex's JSON shape; `restart()` drops those connections and
comes back on the same port.

    with PlexSimulator(generate_library(...), token="t") as sim:
        PlexServer(sim.url, "t")
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from simulators import plex_collections as colls
from simulators import plex_notifications, plex_xml
from simulators.base import SimulatorHandler, SimulatorServer
from simulators.library import Episode, Library, MediaVersion, Movie, Part, Season, Section, Show
from simulators.plex_query import QueryError, apply_filters, apply_sort
from simulators.websocket import WebSocketPeer, accept_key

NOTIFICATIONS_PATH = "/:/websockets/notifications"

TYPE_NUMBERS = {"movie": 1, "show": 2, "season": 3, "episode": 4}
_HTML_ERRORS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass(slots=True)
class Fault:
    """Fires on requests whose path starts with `prefix` (and whose query holds every pair
    of `query`), once `after` matching requests have passed; `times` caps how often."""

    prefix: str
    kind: str  # "status" | "malformed" | "delay"
    status: int = 500
    after: int = 0
    times: int | None = None  # None = forever
    seconds: float = 0.0
    method: str | None = None
    query: dict[str, str] | None = None
    matched: int = field(default=0)
    fired: int = field(default=0)

    def should_fire(self, method: str, path: str, query: dict[str, str]) -> bool:
        if not path.startswith(self.prefix) or (self.method and method != self.method):
            return False
        if self.query and any(query.get(k) != str(v) for k, v in self.query.items()):
            return False
        self.matched += 1
        if self.matched <= self.after or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True


class _Response(Exception):
    """Raised inside request handling to answer with a status and body at once."""

    def __init__(self, status: int, body: str = ""):
        self.status = status
        self.body = body


class _Handler(SimulatorHandler):
    """Thin HTTP adapter: all logic lives in PlexSimulator.handle()."""

    sim: PlexSimulator

    def _answer(self) -> None:
        if self.headers.get("Upgrade", "").lower() == "websocket" and self.path.startswith(
            NOTIFICATIONS_PATH
        ):
            self.sim.serve_websocket(self)
            return
        self.read_body()
        headers = {k: v for k, v in self.headers.items()}
        try:
            status, body = self.sim.handle(self.command, self.path, headers)
        except Exception as exc:  # a simulator bug must surface as a 500, not a hang
            status, body = 500, _html_error(500) + f"<!-- {type(exc).__name__}: {exc} -->"
        ctype = "text/xml;charset=utf-8" if body.startswith("<?xml") else "text/html"
        self.answer(status, body.encode("utf-8"), ctype)

    do_GET = do_DELETE = do_PUT = do_POST = _answer


class PlexSimulator(SimulatorServer):
    """Serves `library` over HTTP; see the module docstring. Thread-safe for its own use."""

    handler_class = _Handler

    def __init__(
        self,
        library: Library,
        *,
        token: str = "t",
        allow_media_deletion: bool = True,
        delay: float = 0.0,
        record: bool = True,
    ):
        self.library = library
        self.token = token
        self.allow_media_deletion = allow_media_deletion
        self.delay = delay
        self.record = record
        self.omit_total_size = False  # some servers/proxies leave totalSize out of pages
        self.ignore_date_filters = False  # an old server answering as if there were none
        self.requests: list[RecordedRequest] = []
        self.request_count = 0
        self.deleted: list[int] = []
        self.playing: list[int] = []  # rating keys "being played" (served at /status/sessions)
        self.refreshed: list[tuple[str, str]] = []  # (section key, path) of partial scans asked
        self.faults: list[Fault] = []
        self.items_served = 0  # items sent in listings and details (what a sync transferred)
        self.notifications_sent: list[str] = []
        self.collections: dict[int, colls.Collection] = {}  # see simulators.plex_collections
        self._lock = threading.RLock()
        self._peers: list[WebSocketPeer] = []
        self._ids = itertools.count(1)
        self._reindex()

    # --- lifecycle -------------------------------------------------------------------
    def stop(self) -> None:
        """Stop listening and cut every websocket (clients see the server go away)."""
        super().stop()
        with self._lock:
            peers, self._peers = self._peers, []
        for peer in peers:
            peer.close()

    # --- fault injection ---------------------------------------------------------------
    def fail_on(
        self,
        path_prefix: str,
        *,
        status: int = 500,
        after: int = 0,
        times: int | None = None,
        method: str | None = None,
        query: dict | None = None,
    ) -> Fault:
        """Answer `status` to requests under `path_prefix` once `after` of them have passed."""
        return self._add_fault(
            Fault(path_prefix, "status", status, after, times, method=method, query=query)
        )

    def malformed_on(
        self,
        path_prefix: str,
        *,
        after: int = 0,
        times: int | None = None,
        query: dict | None = None,
    ) -> Fault:
        """Answer 200 with truncated, unparseable XML."""
        return self._add_fault(
            Fault(path_prefix, "malformed", after=after, times=times, query=query)
        )

    def delay_on(
        self, path_prefix: str, seconds: float, *, after: int = 0, times: int | None = None
    ) -> Fault:
        """Sleep before answering (for client timeouts)."""
        return self._add_fault(
            Fault(path_prefix, "delay", seconds=seconds, after=after, times=times)
        )

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    # --- request log -------------------------------------------------------------------
    def requests_to(self, path_prefix: str, method: str = "GET") -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()
            self.request_count = 0

    # --- library changes at runtime (each one announced on the websocket) ----------------
    def item(self, rating_key: int):
        return self._by_key[int(rating_key)]

    def rename(self, rating_key: int, title: str) -> None:
        with self._lock:
            obj = self._by_key[int(rating_key)]
            obj.title = title
            obj.updated_at += 1
            self._announce([obj], "processed")

    def update_item(
        self, rating_key: int, *, title: str | None = None, size: int | None = None
    ) -> None:
        """Change an item now (new title and/or first file size); `updatedAt` becomes now."""
        with self._lock:
            obj = self._by_key[int(rating_key)]
            if title is not None:
                obj.title = title
            if size is not None and obj.media:
                obj.media[0].parts[0].size = size
            elif size is not None:  # an item without media gets its first file
                obj.media = self._new_media(f"/data/new/{obj.rating_key}.mkv", size)
            obj.updated_at = self._now()
            self._announce([obj], "processed")

    def add_movie(self, title: str, *, size: int = 2_000_000_000, section_key: str = "1") -> Movie:
        """A new movie, added now, announced as created then processed (as a scan does)."""
        with self._lock:
            now, key = self._now(), self._next_key()
            movie = Movie(
                rating_key=key,
                title=title,
                year=2024,
                guid=f"plex://movie/sim{key:021d}",
                guid_tags=(f"imdb://tt{key:07d}", f"tmdb://{key}"),
                added_at=now,
                updated_at=now,
                duration_ms=6_000_000,
                media=self._new_media(f"/data/movies/{title}/{title}.mkv", size),
                section_key=section_key,
            )
            self.library.section(section_key).items.append(movie)
            self._added([movie])
            return movie

    def add_episodes(self, season_key: int, count: int, *, size: int = 1_000_000_000) -> list:
        """`count` new episodes at the end of a season, added now (one scan's worth)."""
        with self._lock:
            season = self._by_key[int(season_key)]
            now, first = self._now(), len(season.episodes) + 1
            added = []
            for index in range(first, first + count):
                key = self._next_key()
                path = f"/data/tv/{season.show.title}/{season.title}/e{index:03d}.mkv"
                episode = Episode(
                    rating_key=key,
                    season=season,
                    index=index,
                    title=f"Episode {index}",
                    year=season.show.year,
                    guid=f"plex://episode/sim{key:019d}",
                    guid_tags=(f"tvdb://{key}",),
                    added_at=now,
                    updated_at=now,
                    duration_ms=2_400_000,
                    media=self._new_media(path, size),
                )
                season.episodes.append(episode)
                added.append(episode)
            self._added(added)
            return added

    def remove_item(self, rating_key: int) -> list[int]:
        """Remove an item and everything below it (as PMS does, also from collections);
        returns the removed keys."""
        with self._lock:
            obj = self._by_key[int(rating_key)]
            if isinstance(obj, Episode):
                obj.season.episodes.remove(obj)
            elif isinstance(obj, Season):
                obj.show.seasons.remove(obj)
            else:
                self.library.section(obj.section_key).items.remove(obj)
            removed = [obj]
            if isinstance(obj, Show):
                removed += list(obj.seasons) + list(obj.episodes())
            elif isinstance(obj, Season):
                removed += list(obj.episodes)
            for gone in removed:
                del self._by_key[gone.rating_key]
            gone_keys = {gone.rating_key for gone in removed}
            for c in self.collections.values():
                c.items = [k for k in c.items if k not in gone_keys]
            self._flat.clear()  # listings are rebuilt lazily (cheap next to a full reindex)
            self._announce(removed, "deleted")
            return [gone.rating_key for gone in removed]

    def _added(self, objs: list) -> None:
        for obj in objs:
            self._by_key[obj.rating_key] = obj
        self._flat.clear()
        self._announce(objs, "created")
        self._announce(objs, "processed")

    def _new_media(self, path: str, size: int) -> list[MediaVersion]:
        n = next(self._ids)
        return [MediaVersion(9_000_000 + n, [Part(9_000_000 + n, path, size)])]

    def _next_key(self) -> int:
        self._max_key += 1
        return self._max_key

    @staticmethod
    def _now() -> int:
        return int(time.time())

    # --- notifications (/:/websockets/notifications) -----------------------------------
    @property
    def listeners(self) -> int:
        """How many websocket clients are connected now."""
        with self._lock:
            return sum(1 for peer in self._peers if peer.open)

    def notify(self, text: str) -> None:
        """Send one raw notification message to every connected client."""
        with self._lock:
            self.notifications_sent.append(text)
            peers = list(self._peers)
        for peer in peers:
            if not peer.send_text(text):
                with self._lock:
                    if peer in self._peers:
                        self._peers.remove(peer)

    def emit_playing(self, rating_key: int, state: str = "stopped") -> None:
        self.notify(plex_notifications.playing(rating_key, state))

    def emit_activity(self, section_key: str, event: str = "ended") -> None:
        section = self.library.section(section_key)
        self.notify(plex_notifications.activity(section.key, section.title, event=event))

    def _announce(self, objs: list, state: str) -> None:
        stamp = self._now()
        for obj in objs:
            entry = plex_notifications.timeline_entry(obj, state, updated_at=stamp)
            self.notify(plex_notifications.timeline([entry]))

    def serve_websocket(self, handler: SimulatorHandler) -> None:
        """Upgrade the handler's connection and keep it until either side closes."""
        query = dict(parse_qsl(urlsplit(handler.path).query))
        with self._lock:
            self.request_count += 1
            if self.record:
                headers = dict(handler.headers.items())
                self.requests.append(RecordedRequest("GET", NOTIFICATIONS_PATH, query, headers))
        token = handler.headers.get("X-Plex-Token") or query.get("X-Plex-Token")
        key = handler.headers.get("Sec-WebSocket-Key")
        if token != self.token or not key:
            handler.send_error(401 if key else 400)
            return
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept_key(key))
        handler.end_headers()
        handler.wfile.flush()
        peer = WebSocketPeer(handler.connection, handler.wfile)
        with self._lock:
            self._peers.append(peer)
        try:
            peer.serve(handler.rfile)
        finally:
            with self._lock:
                if peer in self._peers:
                    self._peers.remove(peer)
            handler.close_connection = True

    def remove_section(self, key: str) -> None:
        with self._lock:
            self.library.sections.remove(self.library.section(key))
            self._reindex()

    def add_section(self, section: Section) -> None:
        with self._lock:
            self.library.sections.append(section)
            self._reindex()

    def changed(self) -> None:
        """Call after editing `library` objects directly, so caches are rebuilt."""
        with self._lock:
            self._reindex()

    def _reindex(self) -> None:
        self._by_key = {obj.rating_key: obj for obj in self.library.iter_items()}
        self._max_key = max(self._by_key, default=getattr(self, "_max_key", 0))
        self._flat: dict[tuple[str, int], list] = {}

    def _section_items(self, section: Section, type_number: int) -> list:
        cache_key = (section.key, type_number)
        if cache_key not in self._flat:
            tops = section.items
            if type_number == 3:
                items = [se for sh in tops for se in sh.seasons]
            elif type_number == 4:
                items = [e for sh in tops for se in sh.seasons for e in se.episodes]
            else:
                items = list(tops)
            self._flat[cache_key] = items
        return self._flat[cache_key]

    # --- request handling (called from the handler thread) --------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str]) -> tuple[int, str]:
        parts = urlsplit(raw_path)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.request_count += 1
            if self.record:
                self.requests.append(RecordedRequest(method, path, query, headers))
            firing = [f for f in self.faults if f.should_fire(method, path, query)]
        if self.delay:
            time.sleep(self.delay)
        for fault in firing:
            if fault.kind == "delay":
                time.sleep(fault.seconds)
        token = headers.get("X-Plex-Token") or query.get("X-Plex-Token")
        if token != self.token:
            return 401, _html_error(401)
        for fault in firing:
            if fault.kind == "status":
                return fault.status, _html_error(fault.status)
        try:
            with self._lock:
                body = self._route(method, path, query, headers)
        except _Response as answer:
            return answer.status, answer.body
        if any(f.kind == "malformed" for f in firing):
            body = body[: max(len(body) // 2, 60)].rstrip(">") + '<Video ratingKey="1'
        return 200, body

    def _route(self, method: str, path: str, query: dict, headers: dict) -> str:
        segments = [s for s in path.split("/") if s]
        body = self._route_collections(method, segments, query)
        if body is not None:
            return body
        if method == "DELETE":
            if len(segments) == 3 and segments[:2] == ["library", "metadata"]:
                return self._delete(segments[2])
            raise _Response(404, _html_error(404))
        if method != "GET":
            raise _Response(400, _html_error(400))
        if not segments:
            return plex_xml.server_root(
                self.library, allow_media_deletion=self.allow_media_deletion
            )
        if segments == ["identity"]:
            return plex_xml.identity(self.library)
        if segments == ["status", "sessions"]:
            return self._sessions()
        if segments == ["library"]:
            return plex_xml.library_root()
        if segments == ["library", "sections"]:
            return plex_xml.sections(self.library)
        if len(segments) == 4 and segments[:2] == ["library", "sections"] and segments[3] == "all":
            return self._section_all(segments[2], query, headers)
        if segments[:2] == ["library", "sections"] and segments[3:] == ["refresh"]:
            return self._refresh(segments[2], query.get("path", ""))
        if len(segments) == 3 and segments[:2] == ["library", "metadata"]:
            return self._details(segments[2])
        if len(segments) == 4 and segments[:2] == ["library", "metadata"]:
            return self._metadata(segments[2], segments[3], query, headers)
        raise _Response(404, _html_error(404))

    # --- collections and their visibility (simulators.plex_collections) ------------------
    def collection_add(self, section_key: str, title: str, keys: list[int]) -> colls.Collection:
        """Create a collection as Plex does (for tests: "another collection" in a section)."""
        with self._lock:
            first = self._by_key[keys[0]]
            self._collection_seq = getattr(self, "_collection_seq", 900_000) + 1
            key = self._collection_seq  # a re-created collection gets a new key, as in Plex
            subtype = "movie" if isinstance(first, Movie) else type(first).__name__.lower()
            made = colls.Collection(
                key, str(section_key), title, subtype, list(dict.fromkeys(keys))
            )
            self.collections[key] = made
            return made

    def collection_delete(self, rating_key: int) -> None:
        """What deleting the collection in Plex's own interface does."""
        with self._lock:
            self.collections.pop(int(rating_key), None)

    def _route_collections(self, method: str, seg: list[str], query: dict) -> str | None:
        """The collection and hub endpoints; None when the request is not one of them."""
        if seg[:2] == ["hubs", "sections"] and len(seg) >= 4 and seg[3] == "manage":
            return self._hubs(method, seg[2], seg[4] if len(seg) > 4 else "", query)
        if method == "POST" and seg == ["library", "collections"]:
            return self._collection_create(query)
        if method == "PUT" and len(seg) == 4 and seg[:2] == ["library", "sections"]:
            return self._collection_edit(query) if query.get("type") == "18" else None
        if len(seg) >= 3 and seg[:2] in (["library", "collections"], ["library", "metadata"]):
            return self._collection_route(method, seg, query)
        return None

    def _collection_route(self, method: str, seg: list[str], query: dict) -> str | None:
        c = self.collections.get(int(seg[2])) if seg[2].isdigit() else None
        if c is None:
            if seg[1] == "collections":
                raise _Response(404, _html_error(404))
            return None
        tail = seg[3:]
        if method == "GET" and tail == []:
            return plex_xml.container(self._collection_xml(c), size="1")
        if method == "GET" and tail == ["children"]:
            return self._items_listing(c.items)
        if method == "DELETE" and tail == []:
            self.collections.pop(c.rating_key)
            return ""
        if method == "PUT" and tail == ["items"]:
            c.items += [k for k in colls.keys_from_uri(query.get("uri", "")) if k not in c.items]
            return plex_xml.container(self._collection_xml(c), size="1")
        if method == "DELETE" and len(tail) == 2 and tail[0] == "items":
            c.items = [k for k in c.items if str(k) != tail[1]]
            return plex_xml.container(self._collection_xml(c), size="1")
        raise _Response(400, _html_error(400))

    def _collection_create(self, query: dict) -> str:
        keys = [k for k in colls.keys_from_uri(query.get("uri", "")) if k in self._by_key]
        section_key = query.get("sectionId", "")
        if not keys or query.get("smart") == "1" or not section_key:
            raise _Response(400, _html_error(400))
        made = self.collection_add(section_key, query.get("title", ""), keys)
        return plex_xml.container(self._collection_xml(made), size="1")

    def _collection_edit(self, query: dict) -> str:
        for key in query.get("id", "").split(","):
            c = self.collections.get(int(key)) if key.isdigit() else None
            if c is None:
                raise _Response(404, _html_error(404))
            c.summary = query.get("summary.value", c.summary)
            c.title_sort = query.get("titleSort.value", c.title_sort)
            c.title = query.get("title.value", c.title)
        return ""

    def _hubs(self, method: str, section_key: str, identifier: str, query: dict) -> str:
        in_section = [c for c in self.collections.values() if c.section_key == section_key]
        if method == "GET":
            wanted = query.get("metadataItemId")
            if wanted:
                in_section = [c for c in in_section if str(c.rating_key) == wanted]
            return colls.hubs_xml(in_section, section_key)
        ident = identifier or f"custom.collection.{section_key}.{query.get('metadataItemId')}"
        c = next((c for c in in_section if c.identifier == ident), None)
        if c is None or method not in ("POST", "PUT", "DELETE"):
            raise _Response(404 if c is None else 400, _html_error(404 if c is None else 400))
        c.hub = None if method == "DELETE" else colls.promotions_from(query, c.hub)
        return ""

    def _collection_xml(self, c: colls.Collection) -> str:
        return colls.collection_xml(c, self.library.section(c.section_key).title)

    def _items_listing(self, keys: list[int]) -> str:
        body = []
        for key in keys:
            obj = self._by_key.get(key)
            if obj is not None:
                section = self.library.section(obj.section_key)
                body.append(plex_xml.item(obj, section, include_guids=False))
        return plex_xml.container("".join(body), size=str(len(body)))

    def _section_all(self, key: str, query: dict, headers: dict) -> str:
        try:
            section = self.library.section(key)
        except KeyError:
            raise _Response(404, _html_error(404)) from None
        default_type = TYPE_NUMBERS[section.type]
        try:
            type_number = int(query.get("type") or default_type)
        except ValueError:
            raise _Response(400, _html_error(400)) from None
        allowed = {1} if section.type == "movie" else {2, 3, 4}
        items = self._section_items(section, type_number) if type_number in allowed else []
        try:
            if not self.ignore_date_filters:
                items = apply_filters(items, query, time.time())
            items = apply_sort(items, query.get("sort"))
        except QueryError:
            raise _Response(400, _html_error(400)) from None
        view_group = plex_xml.VIEW_GROUPS.get(type_number, section.type)
        return self._paged(items, section, query, headers, view_group=view_group)

    def _details(self, keys: str) -> str:
        """`/library/metadata/1,2,3`: the items that exist (404 when none does), as PMS."""
        try:
            objs = [self._by_key[int(k)] for k in keys.split(",") if int(k) in self._by_key]
        except ValueError:
            raise _Response(404, _html_error(404)) from None
        if not objs:
            raise _Response(404, _html_error(404))
        self.items_served += len(objs)
        section = self.library.section(objs[0].section_key)
        body = "".join(
            plex_xml.item(
                obj, self.library.section(obj.section_key), include_guids=True, details=True
            )
            for obj in objs
        )
        return plex_xml.container(
            body,
            size=str(len(objs)),
            allowSync="1",
            librarySectionID=section.key,
            librarySectionTitle=section.title,
            librarySectionUUID=section.uuid,
            **plex_xml.LIBRARY,
        )

    def _metadata(self, key: str, sub: str, query: dict, headers: dict) -> str:
        try:
            obj = self._by_key[int(key)]
        except (KeyError, ValueError):
            raise _Response(404, _html_error(404)) from None
        section = self.library.section(obj.section_key)
        if sub == "children":
            if isinstance(obj, Show):
                return self._paged(obj.seasons, section, query, headers, view_group="season")
            if isinstance(obj, Season):
                return self._paged(obj.episodes, section, query, headers, view_group="episode")
            return self._paged([], section, query, headers, view_group="movie")
        if sub == "allLeaves":
            if isinstance(obj, Show):
                leaves = list(obj.episodes())
            elif isinstance(obj, Season):
                leaves = obj.episodes
            else:
                leaves = []
            return self._paged(leaves, section, query, headers, view_group="episode")
        raise _Response(404, _html_error(404))

    def _paged(self, items: list, section: Section, query: dict, headers: dict, **kw) -> str:
        start_raw = headers.get("X-Plex-Container-Start") or query.get("X-Plex-Container-Start")
        size_raw = headers.get("X-Plex-Container-Size") or query.get("X-Plex-Container-Size")
        include_guids = query.get("includeGuids") == "1"
        if start_raw is None and size_raw is None:
            self.items_served += len(items)
            return plex_xml.listing(items, section, include_guids=include_guids, **kw)
        try:
            start = max(int(start_raw or 0), 0)
            size = int(size_raw) if size_raw is not None else len(items)
        except ValueError:
            raise _Response(400, _html_error(400)) from None
        page = items[start : start + max(size, 0)]
        self.items_served += len(page)
        total = None if self.omit_total_size else len(items)
        return plex_xml.listing(
            page, section, include_guids=include_guids, total=total, offset=start, **kw
        )

    def _refresh(self, key: str, path: str) -> str:
        """A (partial) scan request: PMS answers 200 with an empty body and scans later."""
        try:
            self.library.section(key)
        except KeyError:
            raise _Response(404, _html_error(404)) from None
        self.refreshed.append((key, path))
        return ""

    def _sessions(self) -> str:
        body = []
        for n, key in enumerate(self.playing, start=1):
            obj = self._by_key.get(int(key))
            if obj is None:
                continue
            section = self.library.section(obj.section_key)
            xml = plex_xml.item(obj, section, include_guids=False)
            end = xml.rindex("</")
            user = f'<User id="{n}" title="viewer{n}"/><Session id="s{n}"/>'
            body.append(xml[:end] + user + xml[end:])
        return plex_xml.container("".join(body), size=str(len(body)))

    def _delete(self, key: str) -> str:
        if not self.allow_media_deletion:
            raise _Response(403, _html_error(403))
        try:
            rating_key = int(key)
            self._by_key[rating_key]
        except (KeyError, ValueError):
            raise _Response(404, _html_error(404)) from None
        self.remove_item(rating_key)
        self.deleted.append(rating_key)
        return ""


def _html_error(status: int) -> str:
    text = f"{status} {_HTML_ERRORS.get(status, 'Error')}"
    return f"<html><head><title>{text}</title></head><body><h1>{text}</h1></body></html>"


__all__ = ["Episode", "Fault", "Movie", "PlexSimulator", "RecordedRequest", "Season", "Show"]
