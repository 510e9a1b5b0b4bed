"""One write lock per Plex server over its media_items rows, for bulk writers on PostgreSQL.

A Plex page upsert locks its rows in Plex's listing order, the statistics update in primary
key order, and the gone-marking in whatever order its scan meets them. Run at the same time
(a Tautulli import during a Plex sync, a `sync_all` task delivered twice) they deadlocked.
Every transaction that writes many rows of one server takes this lock first, before any row
lock, so such transactions queue instead of interleaving and can never wait on each other
in a cycle. SQLite needs nothing: its IMMEDIATE transactions already admit one writer.
"""

from __future__ import annotations

from django.db import connection

# The first key of PostgreSQL's two-key advisory locks: "SP" + 1 (media_items writers).
LOCK_CLASS = 0x53_50_01


def media_items_write_lock(*, server_id: int) -> None:
    """Hold the server's write lock until the current transaction ends (waits for it)."""
    if not connection.in_atomic_block:
        raise RuntimeError("media_items_write_lock must be taken inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, server_id])
