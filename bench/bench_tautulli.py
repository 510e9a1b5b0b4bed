"""Benchmark the Tautulli history sync against the simulator (a plain script, not a test).

    .venv/bin/python bench/bench_tautulli.py [--rows 1000000] [--users 50] [--days 730]

The simulator runs in a child process (as a real Tautulli would), so the figures below are
this process's own: wall time and rows/s of a full import, peak RSS, requests, the floor
(replaying the same get_history requests and only json-parsing the pages), and an
incremental run after 1,000 new plays. Uses DATABASE_URL, or a throwaway SQLite file.

Latest figures, with the machine and what changed: docs/benchmarks.md (bench/run_all.py
runs this on SQLite and PostgreSQL). Figures also go to bench/results/tautulli-<db>.json.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing as mp
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import django_setup, peak_rss_mb, results_save  # noqa: E402
from simulators.tautulli import (  # noqa: E402  (no Django needed in the child)
    TautulliSimulator,
    generate_history,
    make_targets,
)


def bench_targets() -> list:
    """2,000 movies and 18,000 episodes (90 shows x 4 seasons x 50 episodes)."""
    return make_targets(movies=2000, shows=90, seasons=4, episodes=50)


def simulator_process(conn, rows: int, users: int, days: int) -> None:
    """Serve a generated history; obey ("add", n), ("requests", since) and ("stop", None)."""
    t0 = time.perf_counter()
    history = generate_history(bench_targets(), users=users, rows=rows, days=days, seed=42)
    with TautulliSimulator(history=history) as sim:
        conn.send((sim.url, sim.api_key, time.perf_counter() - t0))
        rng = random.Random(7)
        while True:
            cmd, arg = conn.recv()
            if cmd == "add":
                now = int(time.time())
                for _ in range(arg):
                    target = history.targets[rng.randrange(len(history.targets))]
                    user = f"user{rng.randrange(users):03d}"
                    started = now - rng.randrange(3600, 20 * 3600)
                    sim.add_play(target=target, user=user, started=started, play_seconds=1200)
                conn.send(len(history))
            elif cmd == "requests":
                conn.send(sim.requests[arg:])
            else:
                break


def library_create(targets: list):
    """One Plex server whose movies/episodes are the history's targets, plus the Tautulli row."""
    from media.models import MediaItem, PlexServer

    plex = PlexServer.objects.create(name=f"bench-{time.time()}", base_url="http://x", token="t")
    MediaItem.objects.bulk_create(
        [
            MediaItem(
                server=plex, plex_id=t.rating_key, guid=t.guid, title=t.title, type=t.media_type,
                parent_plex_id=t.parent_rating_key, grandparent_plex_id=t.grandparent_rating_key,
                season_number=t.season_number, episode_number=t.episode_number,
            )
            for t in targets
        ],
        batch_size=2000,
    )  # fmt: skip
    return plex


def fetch_floor(url: str, api_key: str, history_requests: list[dict]) -> tuple[float, int]:
    """Replay the sync's get_history requests, only fetching and json-parsing each page."""
    import requests

    session = requests.Session()
    t0, rows = time.perf_counter(), 0
    for params in history_requests:
        resp = session.post(f"{url}/api/v2", data={**params, "apikey": api_key}, timeout=600)
        rows += len(json.loads(resp.content)["response"]["data"]["data"])
    return time.perf_counter() - t0, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--new-plays", type=int, default=1000)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the full import to FILE")
    args = parser.parse_args()

    parent, child = mp.get_context("fork").Pipe()
    proc = mp.get_context("fork").Process(
        target=simulator_process, args=(child, args.rows, args.users, args.days), daemon=True
    )
    proc.start()
    url, api_key, gen_seconds = parent.recv()
    print(
        f"simulator: {args.rows:,} rows by {args.users} users over {args.days} days, generated in {gen_seconds:.1f} s"
    )

    django_setup(prefix="bench-tautulli-")
    from django.db import connection

    from syncing.models import TautulliServer
    from syncing.services.tautulli_sync import tautulli_history_sync

    targets = bench_targets()
    plex = library_create(targets)
    tautulli = TautulliServer.objects.create(
        name=f"bench-{time.time()}", base_url=url, api_key=api_key, plex_server=plex
    )
    print(f"database: {connection.vendor}; library: {len(targets):,} movies/episodes")
    rss_before = peak_rss_mb()

    profiler = cProfile.Profile() if args.profile else None
    t0, cpu0 = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    full = tautulli_history_sync(tautulli=tautulli, full=True, trigger="bench")
    full_s, full_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    assert full.status == "success", full.error
    parent.send(("requests", 0))
    history_requests = [r for r in parent.recv() if r.get("cmd") == "get_history"]
    print(
        f"full import: {full_s:.1f} s, {full.rows_fetched:,} rows ({full.rows_fetched / full_s:,.0f} rows/s), "
        f"{full.requests_made} requests, {full.items_updated:,} items updated, "
        f"{full.unmatched} unmatched; phases {full.details['seconds']}; CPU {full_cpu:.1f} s; peak RSS {peak_rss_mb():.0f} MB (before sync {rss_before:.0f} MB)"
    )

    cpu0 = time.process_time()
    floor_s, floor_rows = fetch_floor(url, api_key, [
        {k: v for k, v in r.items() if k != "apikey"} for r in history_requests
    ])  # fmt: skip
    floor_cpu = time.process_time() - cpu0
    print(
        f"floor (same {len(history_requests)} get_history requests, fetch + json parse only): "
        f"{floor_s:.1f} s (CPU {floor_cpu:.1f} s) for {floor_rows:,} rows; "
        f"sync/floor = {full_s / floor_s:.2f}x; read phase CPU {full.details.get('cpu_seconds')}"
    )

    parent.send(("add", args.new_plays))
    parent.recv()
    parent.send(("requests", 0))
    seen = len(parent.recv())
    t0, cpu0 = time.perf_counter(), time.process_time()
    incr = tautulli_history_sync(tautulli=tautulli, trigger="bench")
    incr_s, incr_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    assert incr.status == "success", incr.error
    parent.send(("requests", seen))
    windows = [(r.get("after"), r.get("before")) for r in parent.recv()]
    print(
        f"incremental after {args.new_plays:,} new plays: {incr_s:.2f} s, {incr.rows_fetched:,} rows read, "
        f"{incr.rows_created:,} new plays, {incr.items_updated:,} items updated, "
        f"{incr.requests_made} requests {windows}; phases {incr.details['seconds']}; "
        f"CPU {incr_cpu:.2f} s"
    )
    print(f"peak RSS overall: {peak_rss_mb():.0f} MB")
    results_save(
        "tautulli",
        connection.vendor,
        {
            "rows": full.rows_fetched,
            "users": args.users,
            "full_s": round(full_s, 2),
            "full_cpu_s": round(full_cpu, 2),  # this process (with SQLite: the queries too)
            "rows_per_s": round(full.rows_fetched / full_s),
            "phases": full.details["seconds"],
            "requests": full.requests_made,
            "floor_s": round(floor_s, 2),
            "floor_cpu_s": round(floor_cpu, 2),  # this process: fetch + json parse
            "cpu_phases": full.details.get("cpu_seconds"),  # this process, all its threads
            "new_plays": args.new_plays,
            "incremental_s": round(incr_s, 2),
            "incremental_cpu_s": round(incr_cpu, 2),
            "incremental_phases": incr.details["seconds"],
            "incremental_requests": incr.requests_made,
            "peak_rss_mb": round(peak_rss_mb()),
        },
    )
    parent.send(("stop", None))
    proc.join(timeout=10)


if __name__ == "__main__":
    main()
