"""Benchmark: the planner and the dashboard on a large library.

The library of bench_candidates (2,000 shows × 5 seasons × 10 episodes + 10,000 movies,
statistics written directly), plus a storage history as SmartPlex keeps it (hourly for 30
days, daily for 60 more) and a year of weekly plays. Times, through Django's test client:

- the planner page for a size to free (score and biggest-first orderings) and for a target
  percentage, with the number of candidate groups it chose from (p50 / p95 over N requests);
- the dashboard (it reads only the pre-aggregates);
- the refresh after a sync that writes those pre-aggregates (snapshot + plays per week).

    .venv/bin/python bench/bench_planner.py [--requests 30] [--shows 2000] [--movies 10000]

Budgets (issue 14): planner p95 ≤ 300 ms with ≥ 5,000 candidate groups; dashboard ≤ 150 ms.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from bench_candidates import build_library, timed  # also sets Django up
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench.common import page_parser, results_save, test_database, timing_row

GB = 1024**3


def storage_history(used: int, capacity: int) -> None:
    """What 90 days of syncs leave behind after compaction: 720 hourly + 60 daily rows."""
    from dashboard.models import StorageSnapshot

    now = timezone.now()
    hours = [now - timedelta(hours=h) for h in range(1, 30 * 24)]
    days = [now - timedelta(days=d) for d in range(31, 91)]
    StorageSnapshot.objects.bulk_create(
        StorageSnapshot(
            taken_at=at,
            used_bytes=int(used * (1 - (now - at).days / 400)),
            capacity_bytes=capacity,
        )
        for at in hours + days
    )


def measure(client: Client, name: str, url: str, requests: int) -> dict:
    """Wall times, and this process's CPU times: on a shared machine the wall time includes
    waiting for a core, while the CPU time does not (with SQLite it includes the queries,
    which run in-process; with PostgreSQL the server's share is missing)."""
    cpu: list[float] = []

    def one() -> None:
        start = time.process_time()
        client.get(url)
        cpu.append((time.process_time() - start) * 1000)

    times, queries = timed(one, requests)
    cpu = cpu[1:]  # the warm-up call
    row = timing_row(name, times, cpu, queries)
    print(
        f"{name:44} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['cpu_p50_ms']:8.1f} "
        f"{row['cpu_p95_ms']:8.1f} {queries:7}"
    )
    return row


def prepare(args) -> tuple[dict, float, float]:
    """The library, a disk 90 % full with its history, and a first refresh (timed)."""
    from dashboard.services import dashboard_refresh
    from deletion.storage import used_bytes_get
    from media.services import storage_capacity_set

    built = build_library(
        shows=args.shows, seasons=args.seasons, episodes=args.episodes, movies=args.movies
    )
    connection.cursor().execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    used = used_bytes_get()
    storage_capacity_set(total_gb=round(used / GB / 0.9))
    storage_history(used, int(used / 0.9))
    start, cpu_start = time.perf_counter(), time.process_time()
    dashboard_refresh()
    return built, round(time.perf_counter() - start, 2), round(time.process_time() - cpu_start, 2)


def run(args) -> None:
    from django.contrib.auth import get_user_model

    from deletion.planner import PlanTarget, plan_get

    built, refresh_s, refresh_cpu_s = prepare(args)
    pool = plan_get(target=PlanTarget(free_gb=2000)).pool_size
    print(f"{connection.vendor}: {built['rows']:,} rows; {pool:,} candidate groups to plan from")
    print(f"dashboard refresh after a sync: {refresh_s} s (CPU {refresh_cpu_s} s)")
    print(f"load average before the requests: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    user = get_user_model().objects.create_superuser("bench", "b@example.org", "pw-bench-1")
    client = Client()
    client.force_login(user)
    print(
        f"{'scenario':44} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8} {'queries':>7}"
    )
    scenarios = [
        ("planner free 2 TB, score", "/deletion/plan/?free_gb=2000"),
        ("planner free 2 TB, biggest first", "/deletion/plan/?free_gb=2000&order=size"),
        ("planner down to 70 % used", "/deletion/plan/?target_used_percent=70"),
        ("dashboard", "/"),
    ]
    results = [measure(client, name, url, args.requests) for name, url in scenarios]
    results_save(
        "planner",
        connection.vendor,
        {
            "rows": built["rows"],
            "pool": pool,
            "refresh_s": refresh_s,
            "refresh_cpu_s": refresh_cpu_s,
            "load": round(os.getloadavg()[0], 1),
            "results": results,
        },
    )


def main() -> None:
    args = page_parser(requests=30).parse_args()
    with test_database("bench-planner"):
        run(args)


if __name__ == "__main__":
    main()
