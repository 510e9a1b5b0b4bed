"""`plex_events`: Plex's notifications, through plexapi's AlertListener, into the mirror.

The listener loop runs in the test's own thread (where the database is); a helper thread
plays Plex's side on the simulator and stops the loop once it has seen what it waits for.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

import pytest
from django.core.management import call_command

from media.models import MediaItem
from syncing.models import SyncRun
from syncing.runs import run_queue
from syncing.services.plex_events import (
    Batch,
    EventBatcher,
    PlexEvent,
    listener_states,
    plex_events_parse,
)
from syncing.services.plex_listener import PlexEventListener
from syncing.services.plex_refresh import plex_events_apply
from syncing.services.plex_sync import plex_library_sync
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(sim_server):
    plex_library_sync(server=sim_server, trigger="test")
    return sim_server


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def listen(server, script: Callable[[PlexEventListener], None], **batcher) -> PlexEventListener:
    """Run the listener here until `script` (in a helper thread) returns; re-raise its failure."""
    listener = PlexEventListener(
        server, plex_events_apply, batcher=EventBatcher(**{"quiet": 0.3, **batcher})
    )
    stop, failure = threading.Event(), []

    def play() -> None:
        try:
            script(listener)
        except BaseException as exc:  # reported in the test's thread below
            failure.append(exc)
        finally:
            stop.set()

    helper = threading.Thread(target=play)
    helper.start()
    listener.run(stop)
    helper.join()
    if failure:
        raise failure[0]
    return listener


def item(server, rating_key: int) -> MediaItem:
    return MediaItem.objects.get(server=server, plex_id=rating_key)


def test_an_added_item_reaches_the_mirror_and_a_deleted_one_is_marked_gone(
    synced, plex_sim, plex_library
):
    doomed = plex_library.movies[2]
    added = {}

    def script(listener):
        wait_for(lambda: plex_sim.listeners == 1)
        added["movie"] = plex_sim.add_movie("Fresh Off The Scan", size=1234)
        plex_sim.remove_item(doomed.rating_key)
        wait_for(lambda: listener.batches == 1)

    listen(synced, script)
    assert item(synced, added["movie"].rating_key).file_size_bytes == 1234
    assert item(synced, doomed.rating_key).removed_at is not None
    run = SyncRun.objects.get(kind=SyncRun.Kind.PLEX_EVENTS)
    assert (run.status, run.items_created, run.items_gone) == ("success", 1, 1)
    assert run.details["gone"] == [doomed.rating_key]
    # the one details request for both keys answered without the deleted one
    assert len(plex_sim.requests_to(f"/library/metadata/{added['movie'].rating_key},")) == 1


def test_a_burst_of_500_added_items_is_one_refresh_batch(synced, plex_sim, plex_library):
    def script(listener):
        wait_for(lambda: plex_sim.listeners == 1)
        for n in range(500):
            plex_sim.add_movie(f"Burst {n}")
        wait_for(lambda: listener.batches >= 1, timeout=30)

    listen(synced, script, quiet=1.0, max_wait=20.0)
    runs = SyncRun.objects.filter(kind=SyncRun.Kind.PLEX_EVENTS)
    assert runs.count() == 1
    run = runs.get()
    assert len(run.inputs["refresh"]) == 500 and run.items_created == 500
    assert len(plex_sim.requests_to("/library/metadata/")) == 5  # 100 keys a request
    assert MediaItem.objects.filter(server=synced, title__startswith="Burst ").count() == 500


def test_the_listener_reconnects_after_plex_restarts(synced, plex_sim):
    added = {}

    def script(listener):
        wait_for(lambda: plex_sim.listeners == 1)
        plex_sim.restart()
        wait_for(lambda: listener.connections == 2 and plex_sim.listeners == 1)
        added["movie"] = plex_sim.add_movie("After The Restart")
        wait_for(lambda: listener.batches == 1)

    listener = listen(synced, script)
    assert listener.connections == 2
    assert item(synced, added["movie"].rating_key).title == "After The Restart"


def test_playing_stopped_queues_the_tautulli_item_sync(synced, plex_sim, plex_library):
    factories.tautulli_server(plex=synced)
    movie = plex_library.movies[0]

    def script(listener):
        wait_for(lambda: plex_sim.listeners == 1)
        plex_sim.emit_playing(movie.rating_key, "playing")
        plex_sim.emit_playing(movie.rating_key, "stopped")
        wait_for(lambda: listener.batches == 1)

    listen(synced, script)
    queued = SyncRun.objects.get(kind=SyncRun.Kind.TAUTULLI_ITEM)
    assert queued.inputs == {"plex_id": movie.rating_key}
    assert queued.trigger == "webhook"
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.PLEX_EVENTS).exists()


def test_state_is_stored_while_connected_and_cleared_on_stop(synced, plex_sim):
    seen = {}

    def script(listener):
        wait_for(lambda: plex_sim.listeners == 1)
        plex_sim.add_movie("Ping")
        wait_for(lambda: listener.batches == 1)
        seen["during"] = listener.server.pk

    listen(synced, script)
    state = listener_states()[synced.pk]
    assert not state.connected and state.last_event_at and state.last_batch_at
    assert state.error == ""


def test_unreachable_plex_is_recorded_and_retried(synced, plex_sim):
    plex_sim.stop()

    def script(listener):
        time.sleep(1.5)  # the first try and one retry after a 1 s backoff

    listener = listen(synced, script)
    assert listener.connections == 0
    state = listener_states()[synced.pk]
    assert "Cannot reach Plex" in state.error and not state.connected


def test_a_batch_waits_while_a_sync_holds_the_plex_lock(synced, plex_sim):
    movie = plex_sim.add_movie("Held Back")
    holder = run_queue(kind=SyncRun.Kind.PLEX_CHANGES, target=synced, trigger="test")
    left = plex_events_apply(synced, Batch(refresh=[movie.rating_key], stopped=[]))
    assert left is not None and left.refresh == [movie.rating_key]
    assert not MediaItem.objects.filter(plex_id=movie.rating_key).exists()
    SyncRun.objects.filter(pk=holder.pk).update(status=SyncRun.Status.SUCCESS)
    assert plex_events_apply(synced, left) is None
    assert item(synced, movie.rating_key).title == "Held Back"


def test_events_are_parsed_and_coalesced():
    timeline = {
        "type": "timeline",
        "TimelineEntry": [
            {"identifier": "com.plexapp.plugins.library", "itemID": "7", "type": 1, "state": 0},
            {"identifier": "com.plexapp.plugins.library", "itemID": "7", "type": 1, "state": 5},
            {"identifier": "com.plexapp.plugins.library", "itemID": "8", "type": 4, "state": 9},
            {"identifier": "com.plexapp.plugins.library", "itemID": "9", "type": 12, "state": 5},
            {"identifier": "tv.plex.other", "itemID": "10", "type": 1, "state": 5},
        ],
    }
    events = plex_events_parse(timeline)
    assert events == [PlexEvent("refresh", 7), PlexEvent("refresh", 7), PlexEvent("delete", 8)]
    assert plex_events_parse({"type": "activity", "ActivityNotification": []}) == []
    now = [0.0]
    batcher = EventBatcher(quiet=1.0, max_wait=3.0, clock=lambda: now[0])
    batcher.add([*events, PlexEvent("stopped", 7)])
    now[0] = 1.0
    batcher.add([PlexEvent("refresh", 8)])
    now[0] = 1.5
    assert not batcher.due()  # 0.5 s quiet, 1.5 s since the first
    now[0] = 2.0
    assert batcher.due()
    batch = batcher.take()
    assert (batch.refresh, batch.delete, batch.stopped) == ([7, 8], [], [7])
    assert not batcher.pending()
    for tick in range(4):  # a steady trickle: due once the oldest waited max_wait
        now[0] = 10.0 + tick * 0.5
        batcher.add([PlexEvent("refresh", tick)])
    assert not batcher.due()
    now[0] = 13.0
    assert batcher.due()


def test_command_listens_until_its_time_is_up(synced, plex_sim):
    out = io.StringIO()
    call_command("plex_events", "--stop-after", "1", stdout=out)
    assert "Listening to Home Plex" in out.getvalue()
    assert "Stopped listening" in out.getvalue()
    assert plex_sim.requests_to("/:/websockets/notifications")
    assert not listener_states()[synced.pk].connected
