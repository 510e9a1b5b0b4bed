"""SmartPlex's PostgreSQL advisory locks, held until the transaction ends; one key space
("SP" + n as the first of the two keys), so no two kinds of lock can collide. SQLite needs
none of them: its IMMEDIATE transactions already admit one writer.

- media_items_write_lock: one write lock per Plex server over its media_items rows. A Plex
  page upsert locks its rows in Plex's listing order, the statistics update in primary key
  order, and the gone-marking in whatever order its scan meets them. Run at the same time
  (a Tautulli import during a Plex sync, a `sync_all` task delivered twice) they
  deadlocked. Every transaction that writes many rows of one server takes this lock first,
  before any row lock, so such transactions queue instead of interleaving and can never
  wait on each other in a cycle.
- run_queue_lock: queueing a sync pipeline's runs is one step across processes
  (syncing.services.operations.runs_queue_together).
"""

from __future__ import annotations

from django.db import connection

MEDIA_ITEMS_LOCK = 0x53_50_01  # "SP" + 1, second key: the Plex server
RUN_QUEUE_LOCK = 0x53_50_02  # "SP" + 2, second key: 0


def _xact_lock(first: int, second: int, name: str) -> None:
    """Wait for the lock (first, second) and hold it until the current transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"{name} must be taken inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [first, second])


def media_items_write_lock(*, server_id: int) -> None:
    """Hold the server's media_items write lock until the current transaction ends."""
    _xact_lock(MEDIA_ITEMS_LOCK, server_id, "media_items_write_lock")


def run_queue_lock() -> None:
    """Hold the lock that queues a pipeline's runs until the current transaction ends."""
    _xact_lock(RUN_QUEUE_LOCK, 0, "run_queue_lock")
