"""SmartPlex's promises with several workers and web processes on one PostgreSQL and one
Redis (django-q2's Redis broker), each process started as another host would run it:

- a due `sync_all` schedule runs each kind once, with the scheduler on one cluster only;
- "Sync now" pressed on two web processes at once makes one run of each kind;
- the same task delivered twice does one sync, Plex still before Tautulli;
- a worker SIGKILLed in the middle of a Plex sync is recovered by the other after the
  stale period, and the library ends exactly as a clean run leaves it;
- two `execute_deletions` at once delete each approved group exactly once (the Plex simulator
  counts the DELETEs), and one killed mid-execution strands nothing: the next execution,
  on the other worker, asks Plex what became of the group it was deleting.

Marked `multihost`: `make test` runs it in its PostgreSQL phase, with its Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import requests
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule, Task

from deletion.config import deletion_settings_set
from deletion.models import DeletionRequest, DeletionRun, Level
from deletion.services import candidates_approve
from media.models import MediaItem
from simulators.demo import DemoSize, demo_start
from simulators.plex import Fault
from syncing.models import SyncRun
from syncing.runs import run_now, run_queue
from syncing.services.schedules import SYNC_ALL_SCHEDULE
from tests import factories
from tests.hosts import Hosts, wait_for
from tests.processes import ROOT, child_env, redis_url

pytestmark = [
    pytest.mark.multihost,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
SIZE = DemoSize(
    shows=6, seasons_per_show=2, episodes_per_season=5, movies=40, users=3, days=30, plays=300
)
STALE_MINUTES = 0.2  # 12 s: a killed worker's run is failed and retried within ~1.5 min


@pytest.fixture
def hosts(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("several hosts share PostgreSQL (the PostgreSQL phase of make test)")
    url = redis_url()
    broker = redis.from_url(url)
    broker.flushdb()
    database = urlsplit(os.environ["DATABASE_URL"])._replace(
        path=f"/{connection.settings_dict['NAME']}"
    )
    env = child_env(
        DATABASE_URL=urlunsplit(database),
        REDIS_URL=url,
        SECRET_KEY="multihost-shared-secret-" + "k" * 40,  # the same on every host
        SMARTPLEX_DATA_DIR=str(tmp_path / "data"),
        ALLOWED_HOSTS="127.0.0.1",
        DEBUG="0",
        Q_WORKERS="1",
        SYNC_STALE_MINUTES=str(STALE_MINUTES),
        PLEX_PAGE_SIZE="20",
        LOG_LEVEL="INFO",
    )
    hosts = Hosts(env, tmp_path)
    yield hosts
    hosts.stop_all()
    broker.flushdb()


@pytest.fixture
def library(hosts):
    """The demo simulators, and a Plex and a Tautulli connection pointing at them."""
    demo = demo_start(size=SIZE, seed=4)
    plex = factories.plex_server(name="Home", base_url=demo.plex.url, token=demo.plex.token)
    tautulli = factories.tautulli_server(
        plex=plex, base_url=demo.tautulli.url, api_key=demo.tautulli.api_key
    )
    yield demo, plex, tautulli
    demo.stop()


def _succeeded(count: int) -> bool:
    return SyncRun.objects.filter(status="success").count() >= count


def _in_order(plex_run: SyncRun, tautulli_run: SyncRun) -> bool:
    return tautulli_run.started_at >= plex_run.finished_at


def test_a_due_schedule_runs_each_kind_once_with_the_scheduler_on_one_worker(hosts, library):
    hosts.worker("w1")
    hosts.worker("w2", scheduler=False)
    w2_up = time.monotonic()
    Schedule.objects.filter(name=SYNC_ALL_SCHEDULE).update(
        next_run=timezone.now() - timedelta(seconds=1)
    )

    wait_for(lambda: _succeeded(2), timeout=120, what="the scheduled sync_all")
    # Both clusters have passed their 30 s scheduler cycle: a second tick would show now.
    time.sleep(max(0.0, w2_up + 35 - time.monotonic()))

    runs = list(SyncRun.objects.order_by("pk"))
    assert [(r.kind, r.status, r.trigger) for r in runs] == [
        ("plex", "success", "schedule"),
        ("tautulli", "success", "schedule"),
    ]
    assert _in_order(*runs)
    assert hosts.log("w1").count(f"from schedule [{SYNC_ALL_SCHEDULE}]") == 1
    assert "from schedule" not in hosts.log("w2")


def _login(base_url: str, username: str, password: str) -> dict[str, str]:
    """Log in through the admin's form; the session's cookies (valid on every host)."""
    session = requests.Session()
    session.get(f"{base_url}/admin/login/", timeout=10)
    answer = session.post(
        f"{base_url}/admin/login/?next=/admin/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:300]
    return session.cookies.get_dict()


def _post_together(urls: list[str], cookies: dict[str, str]) -> list[int]:
    """POST "Sync now" to every URL at the same instant; their status codes."""
    start, codes = threading.Barrier(len(urls)), {}

    def press(url: str) -> None:
        start.wait()
        data = {"csrfmiddlewaretoken": cookies["csrftoken"], "next": "/admin/"}
        codes[url] = requests.post(
            url, data=data, cookies=cookies, allow_redirects=False, timeout=30
        ).status_code

    threads = [threading.Thread(target=press, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return [codes.get(url) for url in urls]


def test_sync_now_on_two_web_processes_at_once_makes_one_run_of_each_kind(hosts, library):
    web_a, web_b = hosts.web("web-a"), hosts.web("web-b")
    hosts.worker("w2", scheduler=False)
    # Created by a host (the test process hashes passwords with a test-only hasher).
    hosts.shell(
        "from django.contrib.auth.models import User\n"
        "User.objects.create_superuser('boss', password='multihost-pw-123')"
    )
    cookies = _login(web_a, "boss", "multihost-pw-123")

    codes = _post_together([f"{web_a}/syncing/sync-now/", f"{web_b}/syncing/sync-now/"], cookies)

    assert codes == [302, 302]
    wait_for(lambda: _succeeded(2), timeout=90, what="the synced runs")
    runs = list(SyncRun.objects.order_by("pk"))
    assert [(r.kind, r.status) for r in runs] == [("plex", "success"), ("tautulli", "success")]
    assert _in_order(*runs)


def test_the_same_task_delivered_twice_does_one_sync(hosts, library):
    _, plex, tautulli = library
    hosts.worker("w1", scheduler=False)
    hosts.worker("w2", scheduler=False)
    run_ids = [
        run_queue(kind="plex", target=plex).pk,
        run_queue(kind="tautulli", target=tautulli).pk,
    ]

    hosts.shell(
        "from django_q.tasks import async_task\n"
        f"for _ in range(2): async_task('syncing.tasks.sync_runs_task', {run_ids})"
    )

    wait_for(
        lambda: Task.objects.filter(func="syncing.tasks.sync_runs_task").count() == 2,
        timeout=90,
        what="both deliveries to finish",
    )
    runs = list(SyncRun.objects.order_by("pk"))
    assert [(r.pk, r.status) for r in runs] == [(pk, "success") for pk in run_ids]
    assert _in_order(*runs)


def _library_state() -> list[tuple]:
    """What a sync decides about each item (timestamps of the sync itself left out)."""
    return list(
        MediaItem.objects.order_by("plex_id").values_list(
            "plex_id", "type", "title", "file_size_bytes", "removed_at",
            "total_play_count", "total_watch_time_seconds", "last_watched_at",
        )
    )  # fmt: skip


def test_a_worker_killed_mid_plex_sync_is_recovered_by_the_other(hosts, library):
    demo, plex, tautulli = library
    hosts.worker("w1")
    hosts.worker("w2", scheduler=False)
    hosts.pause("w1")
    time.sleep(1.5)  # w1's pending BLPOP (1 s) ends: the next task can only go to w2
    demo.plex.delay = 0.3
    hosts.shell("from syncing.services.operations import sync_now_all; sync_now_all()")
    wait_for(
        lambda: SyncRun.objects.filter(kind="plex", status="running", progress_done__gt=0),
        timeout=60,
        what="w2 to be in the middle of the Plex sync",
    )

    hosts.kill("w2")
    demo.plex.delay = 0
    hosts.resume("w1")

    wait_for(
        lambda: SyncRun.objects.filter(trigger="retry", status="success").count() == 2,
        timeout=150,
        what="w1 to retry the Plex sync and the Tautulli import",
    )
    killed = list(SyncRun.objects.exclude(trigger="retry").order_by("pk"))
    assert [(r.kind, r.status) for r in killed] == [("plex", "failed"), ("tautulli", "failed")]
    assert all(r.error.startswith("Stale") for r in killed)
    retried = list(SyncRun.objects.filter(trigger="retry").order_by("pk"))
    assert [r.kind for r in retried] == ["plex", "tautulli"] and _in_order(*retried)
    recovered = _library_state()
    assert not MediaItem.objects.filter(removed_at__isnull=False).exists()

    run_now(kind="plex", target=plex)  # a clean run over the same library changes nothing
    run_now(kind="tautulli", target=tautulli, inputs={"full": True})
    assert _library_state() == recovered
    assert len(recovered) == len(list(demo.library.iter_items()))


@pytest.fixture
def approved(library, admin_user):
    """The library synced, and six never-played movies approved by an admin, due at once
    (no "leaving soon" delay), dry run off."""
    demo, plex, tautulli = library
    assert run_now(kind="plex", target=plex).status == "success"
    assert run_now(kind="tautulli", target=tautulli, inputs={"full": True}).status == "success"
    unplayed = MediaItem.objects.filter(server=plex, type="movie", total_play_count=0)
    keys = list(unplayed.order_by("plex_id").values_list("plex_id", flat=True)[:6])
    assert len(keys) == 6
    refs = [(Level.MOVIE, plex.pk, key) for key in keys]
    deletion_settings_set(dry_run=False, max_groups=25, max_gb=100_000, leaving_soon_days=0)
    result = candidates_approve(refs=refs, user=admin_user, rule=None)  # an admin's choice
    assert result.done and not result.refused, result.refused
    demo.plex.record = True
    return keys


def _execution(hosts: Hosts) -> subprocess.Popen:
    """`manage.py execute_deletions` in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "execute_deletions"],
        cwd=ROOT,
        env=hosts.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _deletes(demo) -> Counter:
    return Counter(r.path for r in demo.plex.requests_to("/library/metadata", "DELETE"))


def test_two_executions_at_once_delete_each_group_exactly_once(hosts, library, approved):
    demo = library[0]
    demo.plex.faults.append(Fault(prefix="/library/metadata", kind="delay", seconds=0.2))

    first, second = _execution(hosts), _execution(hosts)
    outputs = [proc.communicate(timeout=120)[0] for proc in (first, second)]

    assert [proc.returncode for proc in (first, second)] == [0, 0], outputs
    assert _deletes(demo) == Counter(f"/library/metadata/{key}" for key in approved)
    statuses = DeletionRequest.objects.values_list("status", flat=True)
    assert sorted(statuses) == ["deleted"] * len(approved)


def test_a_worker_killed_mid_execution_strands_nothing(hosts, library, approved):
    demo = library[0]
    hosts.worker("w1", scheduler=False)
    hosts.worker("w2", scheduler=False)
    hosts.pause("w1")
    time.sleep(1.5)  # w1's pending BLPOP (1 s) ends: the next task can only go to w2
    demo.plex.faults.append(
        Fault(prefix="/library/metadata", kind="delay", seconds=3, method="DELETE")
    )
    enqueue = (
        "from django_q.tasks import async_task; async_task('deletion.tasks.deletion_execute_task')"
    )
    hosts.shell(enqueue)
    wait_for(lambda: _deletes(demo), timeout=60, what="w2 to send its first DELETE")

    hosts.kill("w2")  # its DELETE still reaches Plex; its outcome is never recorded
    demo.plex.faults.clear()
    hosts.resume("w1")
    stale = timedelta(minutes=STALE_MINUTES, seconds=1)
    wait_for(
        lambda: DeletionRun.objects.filter(heartbeat_at__lt=timezone.now() - stale).exists(),
        timeout=60,
        what="the killed execution to go stale",
    )
    hosts.shell(enqueue)  # the next execution (the queue's button, the daily schedule)
    wait_for(
        lambda: DeletionRequest.objects.filter(status="deleted").count() == len(approved),
        timeout=90,
        what="w1 to settle every group",
    )
    wait_for(  # the run is closed after its last group is recorded, not with it
        lambda: not DeletionRun.objects.filter(status="running").exists(),
        timeout=30,
        what="w1's execution to finish",
    )

    assert _deletes(demo) == Counter(f"/library/metadata/{key}" for key in approved)
    assert list(DeletionRun.objects.order_by("pk").values_list("status", flat=True)) == [
        "failed",
        "done",
    ]
    gone = MediaItem.objects.filter(removed_at__isnull=False)
    assert sorted(gone.values_list("plex_id", flat=True)) == sorted(approved)
    recovered = _library_state()
    run_now(kind="plex", target=library[1])  # a clean sync agrees with what was recorded
    assert _library_state() == recovered
