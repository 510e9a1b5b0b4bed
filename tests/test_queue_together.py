"""Two "Sync now" requests at once queue the pipeline as one step each: the second finds
every lock of the first taken, never a Plex run for one and a Tautulli run for the other
(which would run the import beside the Plex sync)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from syncing.models import SyncRun
from syncing.services.operations import runs_queue_together
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def targets():
    if connection.vendor != "postgresql":
        pytest.skip("needs two real connections (the SQLite test database is in memory)")
    plex = factories.plex_server()
    return [("plex", plex), ("tautulli", factories.tautulli_server(plex=plex))]


def _interleaved(targets):
    """The first request stops after queueing Plex until the second has had its turn (or a
    second passed: it is blocked); what each request queued and was refused."""
    plex_queued, second_done = threading.Event(), threading.Event()
    results: dict[str, tuple] = {}

    def slow_targets():
        yield targets[0]
        plex_queued.set()
        second_done.wait(timeout=1.5)
        yield targets[1]

    def first_request() -> None:
        try:
            results["first"] = runs_queue_together(slow_targets(), trigger="admin")
        finally:
            connections.close_all()

    first = threading.Thread(target=first_request)
    first.start()
    plex_queued.wait(timeout=10)
    results["second"] = runs_queue_together(targets, trigger="admin")
    second_done.set()
    first.join(timeout=30)
    return results


def test_a_second_request_meanwhile_gets_no_run_of_the_pipeline(targets):
    results = _interleaved(targets)

    queued, refused = results["first"]
    assert [run.kind for run in queued] == ["plex", "tautulli"]
    assert refused == []
    queued, refused = results["second"]
    assert queued == []
    assert [exc.run.kind for exc in refused] == ["plex", "tautulli"]
    assert SyncRun.objects.filter(status=SyncRun.Status.QUEUED).count() == 2
