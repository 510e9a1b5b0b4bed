"""Benchmark freshness: the light Plex sync and the plex_events latency (a script, not a test).

    .venv/bin/python bench/bench_plex_changes.py                  # 100k episodes + 10k movies
    .venv/bin/python bench/bench_plex_changes.py --db postgres    # a throwaway PostgreSQL 15
    .venv/bin/python bench/bench_plex_changes.py --small          # a quick check

After a full sync (the baseline), the simulator changes 100 items while it runs (50
episodes get a new file size, 30 episodes are added, 10 movies change, 10 are added);
then `sync_plex --changed` runs: wall time, requests and items per section. A second
light sync with nothing changed follows. Then plex_events listens (default batching:
1 s quiet, 3 s at most) while the simulator adds one movie at a time: the time from the
addition to the row in the database, over --adds additions. The simulator runs in a
child process, told what to change through a pipe.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

TOKEN = "bench-token"


def parse_args() -> argparse.Namespace:
    p = common.library_parser(__doc__)
    p.add_argument("--adds", type=int, default=10, help="movies added one at a time for latency")
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = common.library_args(p)
    if args.small:
        args.adds = 3
    return args


def serve(args: argparse.Namespace, conn) -> None:
    """Child process: serve the library and apply the changes the parent asks for."""
    from simulators.plex import PlexSimulator

    library = common.library_generate(args)
    with PlexSimulator(library, token=TOKEN, record=False) as sim:
        conn.send(sim.url)
        while (order := conn.recv()) != "stop":
            conn.send(_change(sim, library, order))


def _change(sim, library, order: str):
    """'hundred': the 100 changes; 'movie N': add one movie, return its rating key."""
    if order.startswith("movie"):
        return sim.add_movie(f"Bench Arrival {order.split()[1]}").rating_key
    shows = library.shows
    step = max(len(shows) // 50, 1)
    for show in shows[::step][:50]:
        sim.update_item(show.seasons[0].episodes[0].rating_key, size=123_456_789)
    for show in shows[1::step][:10]:
        sim.add_episodes(show.seasons[-1].rating_key, 3)
    for movie in library.movies[:: max(len(library.movies) // 10, 1)][:10]:
        sim.update_item(movie.rating_key, title=f"{movie.title} (Director's Cut)")
    for n in range(10):
        sim.add_movie(f"Bench New Movie {n}")
    return 100


def light_once(server, label: str):
    from syncing.services.plex_changes import plex_changes_run

    started = time.perf_counter()
    run = plex_changes_run(server=server, trigger="bench")
    wall = time.perf_counter() - started
    if run.error:
        raise SystemExit(f"{label} failed: {run.error}")
    per_section = ", ".join(
        f"{title}: {s['requests']} requests / {s['items']} items"
        for title, s in run.details["sections"].items()
    )
    print(
        f"{label:<22} {wall:6.2f} s  {run.requests_made:3d} requests  "
        f"{run.items_created} created / {run.items_updated} updated  ({per_section})"
    )
    return wall, run


def latency(server, conn, adds: int) -> list[float]:
    """Seconds from a movie's addition in Plex to its row, with plex_events listening."""
    from media.models import MediaItem
    from syncing.services.plex_listener import PlexEventListener
    from syncing.services.plex_refresh import plex_events_apply

    listener, stop = PlexEventListener(server, plex_events_apply), threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    while listener.connections == 0:
        time.sleep(0.05)
    seconds = []
    for n in range(adds):
        started = time.perf_counter()
        conn.send(f"movie {n}")
        key = conn.recv()
        while not MediaItem.objects.filter(server=server, plex_id=key).exists():
            time.sleep(0.02)
        seconds.append(time.perf_counter() - started)
        time.sleep(0.5)
    stop.set()
    thread.join(timeout=15)
    return seconds


def run(args: argparse.Namespace, conn, url: str) -> None:
    common.django_setup()
    from django.db import connection

    from media.models import MediaItem, PlexServer
    from syncing.services.plex_sync import plex_library_sync

    PlexServer.objects.filter(name="bench").delete()
    server = PlexServer.objects.create(name="bench", base_url=url, token=TOKEN)
    started = time.perf_counter()
    full = plex_library_sync(server=server, trigger="bench")
    full_s = time.perf_counter() - started
    if full.error:
        raise SystemExit(f"full sync failed: {full.error}")
    rows = MediaItem.objects.filter(server=server).count()
    print(f"baseline full sync: {full_s:.1f} s, {rows:,} rows ({connection.vendor})")
    conn.send("hundred")
    conn.recv()
    changed_s, changed = light_once(server, "--changed, 100 changes")
    again_s, again = light_once(server, "--changed, no change")
    waits = latency(server, conn, args.adds)
    print(
        f"plex_events latency over {len(waits)} additions: median {statistics.median(waits):.2f} s, "
        f"max {max(waits):.2f} s; peak RSS {common.peak_rss_mb():.0f} MB"
    )
    common.results_save(
        "plex_changes",
        connection.vendor,
        {
            "rows": rows,
            "full_sync_s": round(full_s, 1),
            "changed_s": round(changed_s, 2),
            "changed_requests": changed.requests_made,
            "changed_sections": changed.details["sections"],
            "changed_items": changed.items_created + changed.items_updated,
            "unchanged_s": round(again_s, 2),
            "unchanged_requests": again.requests_made,
            "latency_median_s": round(statistics.median(waits), 2),
            "latency_max_s": round(max(waits), 2),
        },
    )
    if os.environ.get("DATABASE_URL"):
        server.delete()


def main() -> None:
    args = parse_args()
    with common.child_process(serve, args) as (parent, url):
        if args.db == "postgres":
            from bench.run_all import pg_cluster, pg_database

            with pg_cluster() as (pg_dir, user):
                os.environ["DATABASE_URL"] = pg_database(pg_dir, user, "bench_plex_changes")
                run(args, parent, url)
        else:
            run(args, parent, url)


if __name__ == "__main__":
    main()
