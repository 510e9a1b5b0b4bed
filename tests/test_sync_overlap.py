"""A Plex full sync and a Tautulli import running at the same time on PostgreSQL never
deadlock on media_items (they used to: row locks taken in different orders), and leave the
same data as the two run one after the other."""

from __future__ import annotations

import random
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections

from media.models import MediaItem
from simulators.demo import DemoSize, demo_start
from syncing.models import SyncRun
from syncing.services.connections import connections_sync_from_env
from syncing.services.operations import sync_all

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SIZE = DemoSize(
    shows=12, seasons_per_show=2, episodes_per_season=10, movies=150, users=4, days=60, plays=1500
)
ROUNDS = 10


@pytest.fixture
def demo(settings):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock deadlocks are a PostgreSQL matter (SQLite has one writer)")
    demo = demo_start(size=SIZE, seed=11)
    env = demo.env()
    settings.PLEX_URL, settings.PLEX_TOKEN = env["PLEX_URL"], env["PLEX_TOKEN"]
    settings.TAUTULLI_URL, settings.TAUTULLI_API_KEY = env["TAUTULLI_URL"], env["TAUTULLI_API_KEY"]
    settings.PLEX_PAGE_SIZE = 40  # many short page transactions, interleaved with the stats
    connections_sync_from_env()
    yield demo
    demo.stop()


def _together(*commands: tuple[str, ...]) -> list[BaseException]:
    """Run management commands in threads released at the same instant; their errors."""
    start, errors = threading.Barrier(len(commands)), []

    def run(args: tuple[str, ...]) -> None:
        try:
            start.wait()
            call_command(*args, stdout=StringIO(), stderr=StringIO(), verbosity=0)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(args,)) for args in commands]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return errors


def _stats() -> list[tuple]:
    return list(
        MediaItem.objects.order_by("server_id", "plex_id").values_list(
            "plex_id", "removed_at", "total_play_count", "total_watch_time_seconds",
            "last_watched_at",
        )
    )  # fmt: skip


def _first_sync_in_another_order(demo) -> None:
    """Create the rows in a shuffled order, as a library grown over years is: Plex's listing
    order is then not the primary-key order that the statistics update follows."""
    originals = [list(section.items) for section in demo.library.sections]
    for section in demo.library.sections:
        random.Random(section.key).shuffle(section.items)
    demo.plex.changed()
    call_command("sync_plex", stdout=StringIO(), verbosity=0)
    for section, items in zip(demo.library.sections, originals, strict=True):
        section.items[:] = items
    demo.plex.changed()


def test_plex_full_sync_and_tautulli_import_overlap_ten_times(demo):
    _first_sync_in_another_order(demo)
    for _ in range(ROUNDS):
        errors = _together(("sync_plex",), ("sync_tautulli", "--full"))
        assert errors == []
    runs = SyncRun.objects.exclude(pk=SyncRun.objects.order_by("pk").first().pk)
    assert runs.count() == 2 * ROUNDS
    assert {(r.status, r.error) for r in runs} == {("success", "")}
    overlapped = _stats()

    call_command("sync_plex", stdout=StringIO(), verbosity=0)  # the same, one after the other
    call_command("sync_tautulli", "--full", stdout=StringIO(), verbosity=0)
    assert _stats() == overlapped
    assert sum(row[2] for row in overlapped) > 0


def test_sync_all_delivered_twice_keeps_plex_before_tautulli(demo):
    """The second delivery arrives while the first's Plex sync runs: it finds every lock of
    the pipeline taken (its Tautulli run was queued with the Plex run) and does nothing."""
    demo.plex.delay = 0.05  # a Plex sync of a few seconds
    first = threading.Thread(target=_quiet_sync_all)
    first.start()
    try:
        _wait_for(lambda: SyncRun.objects.filter(kind="plex", status="running").exists())
        assert sync_all(trigger="schedule") == []
    finally:
        first.join(timeout=120)
    plex, tautulli = SyncRun.objects.order_by("pk")
    assert (plex.kind, plex.status, tautulli.kind, tautulli.status) == (
        "plex", "success", "tautulli", "success",
    )  # fmt: skip
    assert tautulli.started_at >= plex.finished_at


def _quiet_sync_all() -> None:
    try:
        sync_all(trigger="schedule")
    finally:
        connections.close_all()


def _wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
