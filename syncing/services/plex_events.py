"""Plex's own notifications, turned into small targeted refreshes (`manage.py plex_events`).

plexapi's AlertListener holds the websocket (`/:/websockets/notifications`) in a thread
and hands each message to `PlexEventListener._on_message`, which only parses it and adds
it to an `EventBatcher`: nothing there touches the database. The main loop takes a batch
once events have been quiet for a moment (or have waited `max_wait`), so a library scan
of 500 items is one refresh, not 500. A batch is a run (kind `plex_events`, lock "plex"):
while a full or light sync holds the lock, it waits and is tried again.

Timeline entries of the library (movie/show/season/episode) become "refresh" (any state
but 9) or "delete" (state 9, `metadataState` "deleted"); a play session reaching
"stopped" queues the Tautulli one-item sync, the webhook's path. The listener's state
(connected, last event, last batch, error) is kept in system_config for the badge.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from media.models import PlexServer, SystemConfig
from media.services import config_get, config_set

logger = logging.getLogger(__name__)

LIBRARY = "com.plexapp.plugins.library"
ITEM_TYPES = {1, 2, 3, 4}  # movie, show, season, episode
DELETED_STATE = 9
STATE_PREFIX = "plex_events:"
# The listener writes a heartbeat this often; a state older than 3 heartbeats is dead.
HEARTBEAT_SECONDS = 20


@dataclass(frozen=True)
class PlexEvent:
    action: str  # "refresh" | "delete" | "stopped"
    plex_id: int


def plex_events_parse(data: dict) -> list[PlexEvent]:
    """The events in one notification container (what AlertListener's callback gets)."""
    kind = data.get("type")
    if kind == "timeline":
        return [e for e in map(_timeline_event, data.get("TimelineEntry") or []) if e]
    if kind == "playing":
        events = []
        for session in data.get("PlaySessionStateNotification") or []:
            key = _int(session.get("ratingKey"))
            if session.get("state") == "stopped" and key:
                events.append(PlexEvent("stopped", key))
        return events
    return []  # activity, status, progress…: nothing to refresh


def _timeline_event(entry: dict) -> PlexEvent | None:
    key, item_type = _int(entry.get("itemID")), _int(entry.get("type"))
    if entry.get("identifier") != LIBRARY or item_type not in ITEM_TYPES or not key:
        return None
    deleted = _int(entry.get("state")) == DELETED_STATE or entry.get("metadataState") == "deleted"
    return PlexEvent("delete" if deleted else "refresh", key)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Batch:
    refresh: list[int] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.refresh) + len(self.delete) + len(self.stopped)


class EventBatcher:
    """Coalesces events (thread-safe): the last action per item wins; a batch is due
    `quiet` seconds after the latest event or `max_wait` seconds after the oldest."""

    def __init__(self, *, quiet: float = 1.0, max_wait: float = 3.0, clock=time.monotonic):
        self.quiet, self.max_wait, self._clock = quiet, max_wait, clock
        self._lock = threading.Lock()
        self._items: dict[int, str] = {}
        self._stopped: dict[int, None] = {}
        self._first = self._last = 0.0
        self.not_before = 0.0  # set after a refused batch, to wait before the next try

    def add(self, events: list[PlexEvent]) -> None:
        now = self._clock()
        with self._lock:
            if events and not self.pending():
                self._first = now
            for event in events:
                if event.action == "stopped":
                    self._stopped[event.plex_id] = None
                else:
                    self._items.pop(event.plex_id, None)
                    self._items[event.plex_id] = event.action
            if events:
                self._last = now

    def pending(self) -> bool:
        return bool(self._items or self._stopped)

    def due(self) -> bool:
        now = self._clock()
        with self._lock:
            if not self.pending() or now < self.not_before:
                return False
            return now - self._last >= self.quiet or now - self._first >= self.max_wait

    def take(self) -> Batch:
        with self._lock:
            items, stopped = self._items, self._stopped
            self._items, self._stopped = {}, {}
        return Batch(
            refresh=[k for k, action in items.items() if action == "refresh"],
            delete=[k for k, action in items.items() if action == "delete"],
            stopped=list(stopped),
        )

    def put_back(self, batch: Batch, *, retry_in: float) -> None:
        """Return an unapplied batch (newer events for the same items win)."""
        with self._lock:
            older = {k: "refresh" for k in batch.refresh} | {k: "delete" for k in batch.delete}
            self._items = older | self._items
            self._stopped = dict.fromkeys(batch.stopped) | self._stopped
            self._first = self._last = self._clock()
            self.not_before = self._clock() + retry_in


# --- listener state (system_config "plex_events:<server pk>") ----------------------------


def listener_state_update(server: PlexServer, **fields) -> dict:
    """Merge fields into the server's listener state; datetimes are stored as ISO text."""
    state = dict(config_get(f"{STATE_PREFIX}{server.pk}") or {})
    for name, value in fields.items():
        state[name] = value.isoformat() if isinstance(value, datetime) else value
    state["heartbeat_at"] = timezone.now().isoformat()
    config_set(f"{STATE_PREFIX}{server.pk}", state)
    return state


@dataclass(frozen=True)
class ListenerState:
    server_pk: int
    connected: bool  # connected, and its process is alive (heartbeat recent)
    last_event_at: datetime | None
    last_batch_at: datetime | None
    error: str


def listener_states(*, now: datetime | None = None) -> dict[int, ListenerState]:
    """Every server's listener state, in one query (the badge reads it on every page)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=3 * HEARTBEAT_SECONDS)
    states = {}
    for row in SystemConfig.objects.filter(key__startswith=STATE_PREFIX):
        value, pk = row.value or {}, _int(row.key.removeprefix(STATE_PREFIX))
        if pk is None:
            continue
        heartbeat = _when(value.get("heartbeat_at"))
        states[pk] = ListenerState(
            server_pk=pk,
            connected=bool(value.get("connected")) and bool(heartbeat and heartbeat >= cutoff),
            last_event_at=_when(value.get("last_event_at")),
            last_batch_at=_when(value.get("last_batch_at")),
            error=value.get("error", ""),
        )
    return states


def _when(text: str | None) -> datetime | None:
    return parse_datetime(text) if text else None


# Applies a batch; returns what could not be applied yet (None or an empty batch: all done).
ApplyFunction = Callable[[PlexServer, Batch], Batch | None]
