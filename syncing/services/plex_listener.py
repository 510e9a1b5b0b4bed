"""The `plex_events` loop: keep plexapi's AlertListener connected and apply its batches.

One `PlexEventListener` per server. The AlertListener thread ends whenever the websocket
does (Plex restarted, network cut, token refused); the loop then reconnects with an
exponential backoff (1 s doubling up to `backoff_max`), reset once a connection holds.
Batches are applied in the loop's own thread, where the database is used; the
AlertListener thread only feeds the batcher.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections, connection
from django.utils import timezone
from plexapi.alert import AlertListener

from media.models import PlexServer
from syncing.clients.plex import PlexError
from syncing.services.plex_events import (
    HEARTBEAT_SECONDS,
    ApplyFunction,
    EventBatcher,
    listener_state_update,
    plex_events_parse,
)
from syncing.services.plex_sync import plex_client_for

logger = logging.getLogger(__name__)
CONNECT_WAIT_SECONDS = 5.0
TICK_SECONDS = 0.1
RETRY_SECONDS = 5.0  # a batch refused because a sync holds the Plex lock waits this long


class PlexEventListener:
    """Listens to one server until `stop` is set; see the module docstring."""

    def __init__(
        self,
        server: PlexServer,
        apply: ApplyFunction,
        *,
        batcher: EventBatcher | None = None,
        backoff_max: float = 60.0,
    ):
        self.server = server
        self.apply = apply
        self.batcher = batcher or EventBatcher()
        self.backoff_max = backoff_max
        self.connections = 0  # how many times a websocket was opened (tests, logs)
        self.batches = 0  # how many batches were applied
        self._last_event_at = None
        self._heartbeat = 0.0
        self._errors: list[str] = []
        self._alert: AlertListener | None = None

    def run(self, stop: threading.Event) -> None:
        delay = 1.0
        try:
            while not stop.is_set():
                alert = self._connect()
                if alert is not None:
                    delay = 1.0
                    self._listen(alert, stop)
                if stop.is_set():
                    break
                self._wait(stop, delay)
                delay = min(delay * 2, self.backoff_max)
        finally:
            if self._alert is not None and self._alert.is_alive():
                self._alert.stop()  # Ctrl-C lands anywhere in the loop
            if self.batcher.pending():
                self.flush()
            self._state(connected=False)

    def flush(self) -> None:
        """Apply what the batcher holds; what is refused (lock held) goes back to wait."""
        batch = self.batcher.take()
        if not len(batch):
            return
        _fresh_connection()
        left = self.apply(self.server, batch)
        if left is not None and len(left):
            self.batcher.put_back(left, retry_in=RETRY_SECONDS)
        else:
            self.batches += 1
            self._state(last_batch_at=timezone.now(), last_batch_size=len(batch))

    def _connect(self) -> AlertListener | None:
        """Open the websocket; None (and the reason stored) when it cannot be opened."""
        client = plex_client_for(self.server)
        try:
            plex = client.server
        except PlexError as exc:
            self._state(connected=False, error=str(exc))
            return None
        finally:
            client.close()  # plexapi's later calls reopen the pool; the websocket is its own
        self._errors = []
        alert = AlertListener(plex, callback=self._on_message, callbackError=self._on_error)
        alert.start()
        deadline = time.monotonic() + CONNECT_WAIT_SECONDS
        while alert.is_alive() and not _ws_connected(alert) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not _ws_connected(alert):
            if alert.is_alive() and alert._ws is not None:
                alert.stop()
            reason = self._errors[-1] if self._errors else "no answer"
            self._state(connected=False, error=f"Cannot open Plex notifications: {reason}")
            return None
        self.connections += 1
        self._alert = alert
        logger.info("plex_events: listening to %s", self.server.name)
        self._state(connected=True, connected_at=timezone.now(), error="")
        return alert

    def _listen(self, alert: AlertListener, stop: threading.Event) -> None:
        while alert.is_alive() and not stop.is_set():
            if self.batcher.due():
                self.flush()
            if time.monotonic() - self._heartbeat >= HEARTBEAT_SECONDS:
                self._state()
            stop.wait(TICK_SECONDS)
        if alert.is_alive():
            # websocket-client notices its own close only at its next 10 s select timeout;
            # the thread is a daemon with nothing left to do, so it is not waited for.
            alert.stop()
        else:
            reason = self._errors[-1] if self._errors else "closed by the server"
            logger.warning("plex_events: %s disconnected (%s)", self.server.name, reason)
            self._state(connected=False, error=f"Disconnected: {reason}")

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        """Sleep before reconnecting, still applying batches that are due."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            if self.batcher.due():
                self.flush()
            stop.wait(TICK_SECONDS)

    def _on_message(self, data: dict) -> None:  # AlertListener's thread: no database here
        events = plex_events_parse(data)
        if events:
            self._last_event_at = timezone.now()
            self.batcher.add(events)

    def _on_error(self, error: Exception) -> None:
        self._errors.append(_redact(f"{type(error).__name__}: {error}", self.server.token))

    def _state(self, **fields) -> None:
        self._heartbeat = time.monotonic()
        if self._last_event_at is not None:
            fields["last_event_at"] = self._last_event_at
        _fresh_connection()
        listener_state_update(self.server, **fields)


def _fresh_connection() -> None:
    """Drop a database connection that broke or aged while the listener waited (as Django
    does between requests); never inside a transaction, where it would end the caller's."""
    if not connection.in_atomic_block:
        close_old_connections()


def _ws_connected(alert: AlertListener) -> bool:
    """Whether the listener's websocket is open (plexapi exposes no hook for it)."""
    ws = getattr(alert, "_ws", None)
    sock = getattr(ws, "sock", None)
    return bool(sock is not None and sock.connected)


def _redact(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text
