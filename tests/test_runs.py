"""The run lifecycle (syncing.runs), the same for every kind of run in syncing.kinds:
a failing work function leaves a failed run with its reason and the lock free; a
succeeding one leaves its counts; a second run of the same kind and target is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from simulators.radarr import RadarrSimulator
from simulators.tautulli import TautulliSimulator
from syncing.kinds import RUN_KINDS
from syncing.models import SeerrServer, SyncRun
from syncing.runs import SyncAlreadyRunning, run_execute, run_now, run_queue
from syncing.tasks import sync_runs_task
from tests import factories
from tests.plex_helpers import SIM_TOKEN
from tests.tautulli_helpers import target_of, utc

pytestmark = pytest.mark.django_db

KEY = "runs-test-key-0123456789"


@pytest.fixture
def sims(plex_sim, settings):
    settings.TAUTULLI_BACKOFF = 0
    settings.TAUTULLI_TIMEOUT = 2
    with TautulliSimulator(api_key=KEY) as tautulli_sim, RadarrSimulator(api_key=KEY) as radarr:
        yield plex_sim, tautulli_sim, radarr


def _target(
    kind: str, plex_url: str, tautulli_url: str, *, good: bool, seerr=None, arr_url: str = ""
):
    """A target record for `kind` pointing at the simulators (or at a dead port)."""
    if kind == "seerr":
        base_url = seerr.url if good else "http://127.0.0.1:9"
        return SeerrServer.objects.create(name="S", base_url=base_url, api_key=seerr.api_key), {}
    plex = factories.plex_server(
        base_url=plex_url if good else "http://127.0.0.1:9", token=SIM_TOKEN
    )
    if kind.startswith("plex"):  # plex, plex_changes, plex_events
        return plex, ({"refresh": [1000], "delete": []} if kind == "plex_events" else {})
    if kind == "arr":
        base_url = arr_url if good else "http://127.0.0.1:9"
        return factories.arr_server(plex=plex, base_url=base_url, api_key=KEY), {}
    base_url = tautulli_url if good else "http://127.0.0.1:9"
    tautulli = factories.tautulli_server(plex=plex, base_url=base_url, api_key=KEY)
    return tautulli, ({"plex_id": 1} if kind == "tautulli_item" else {})


@pytest.mark.parametrize("kind", list(RUN_KINDS))
def test_a_failing_run_records_the_reason_and_frees_the_lock(kind, sims, seerr_sim):
    plex_sim, tautulli_sim, radarr_sim = sims
    target, inputs = _target(
        kind,
        plex_sim.url,
        tautulli_sim.url,
        good=False,
        seerr=seerr_sim,
        arr_url=radarr_sim.url,
    )

    run = run_now(kind=kind, target=target, trigger="test", inputs=inputs)

    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.finished_at is not None
    assert "127.0.0.1:9" in run.error and "\n" not in run.error
    assert run_queue(kind=kind, target=target, inputs=inputs).status == SyncRun.Status.QUEUED


@pytest.mark.parametrize("kind", list(RUN_KINDS))
def test_a_succeeding_run_records_its_counts(kind, sims, seerr_sim):
    plex_sim, tautulli_sim, radarr_sim = sims
    target, inputs = _target(
        kind,
        plex_sim.url,
        tautulli_sim.url,
        good=True,
        seerr=seerr_sim,
        arr_url=radarr_sim.url,
    )

    run = run_now(kind=kind, target=target, trigger="test", inputs=inputs)

    run.refresh_from_db()
    assert (run.status, run.error, run.progress_label) == ("success", "", "Done")
    assert run.requests_made > 0 and run.heartbeat_at >= run.started_at


@pytest.mark.parametrize("kind", list(RUN_KINDS))
def test_a_second_run_of_the_same_kind_is_refused_clearly(kind, sims, seerr_sim):
    plex_sim, tautulli_sim, radarr_sim = sims
    target, inputs = _target(
        kind,
        plex_sim.url,
        tautulli_sim.url,
        good=True,
        seerr=seerr_sim,
        arr_url=radarr_sim.url,
    )
    first = run_queue(kind=kind, target=target, trigger="admin", inputs=inputs)

    with pytest.raises(SyncAlreadyRunning, match=rf"already running or queued \(run #{first.pk},"):
        run_now(kind=kind, target=target, inputs=inputs)

    assert run_execute(first).status == SyncRun.Status.SUCCESS
    with pytest.raises(SyncAlreadyRunning):  # executed once, never twice
        run_execute(first)


def test_a_task_delivered_twice_runs_once(sims):
    plex_sim, *_ = sims
    server = factories.plex_server(base_url=plex_sim.url, token=SIM_TOKEN)
    run = run_queue(kind="plex", target=server, trigger="admin")

    assert sync_runs_task([run.pk]) == ["success"]
    assert sync_runs_task([run.pk]) == ["skipped"]
    assert SyncRun.objects.count() == 1


def test_a_dead_workers_run_is_failed_and_the_lock_freed(sims, settings):
    plex_sim, *_ = sims
    server = factories.plex_server(base_url=plex_sim.url, token=SIM_TOKEN)
    dead = run_queue(kind="plex", target=server)
    old = timezone.now() - timedelta(minutes=settings.SYNC_STALE_MINUTES + 1)
    SyncRun.objects.filter(pk=dead.pk).update(status="running", heartbeat_at=old)

    fresh = run_now(kind="plex", target=server)

    dead.refresh_from_db()
    assert dead.status == "failed" and "Stale" in dead.error
    assert fresh.status == "success"


def test_credentials_in_a_base_url_never_reach_the_run(db):
    plex = factories.plex_server(base_url="http://admin:hunter2@127.0.0.1:9", token=SIM_TOKEN)

    run = run_now(kind="plex", target=plex)

    assert run.status == "failed" and "hunter2" not in run.error and "admin:" not in run.error


def test_the_incremental_cursor_is_kept_apart_from_the_inputs(sims):
    _, tautulli_sim, _ = sims
    plex = factories.plex_server()
    tautulli = factories.tautulli_server(plex=plex, base_url=tautulli_sim.url, api_key=KEY)
    item = factories.item(server=plex, type="movie")
    tautulli_sim.add_play(target=target_of(item), started=utc(2))
    first = run_now(kind="tautulli", target=tautulli, inputs={"full": True})

    assert first.inputs == {"full": True}
    assert first.cursor["newest_started"] == int(utc(2).timestamp())
    second = run_now(kind="tautulli", target=tautulli)
    assert second.details["since"] == (utc(2).date() - timedelta(days=1)).isoformat()
