"""Benchmark the Plex library sync against the simulator (a script, not a test).

    .venv/bin/python bench/bench_plex.py                      # 2,000 shows x 50 eps + 10k movies
    .venv/bin/python bench/bench_plex.py --small              # a quick check
    .venv/bin/python bench/bench_plex.py --shows 500 --episodes-per-show 20 --movies 2000

Prints, for a full sync and a no-change re-sync: wall time, HTTP requests, pages, and
the process's peak RSS; beside them the floor: the time to only fetch and parse the same
pages through plexapi's `PlexServer.query()`. The simulator runs in a child process, so
neither its memory nor (mostly) its CPU is charged to the sync. Uses DATABASE_URL when
set, otherwise a fresh SQLite database in a temporary folder.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

TOKEN = "bench-token"


def parse_args() -> argparse.Namespace:
    p = common.library_parser(__doc__)
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--profile", metavar="PREFIX", help="cProfile each sync to PREFIX-<label>.prof")
    return common.library_args(p)


def serve(args: argparse.Namespace, conn) -> None:
    """Child process: generate the library, serve it, report the URL, wait to be told to stop."""
    from simulators.plex import PlexSimulator

    started = time.perf_counter()
    library = common.library_generate(args)
    generated = time.perf_counter() - started
    with PlexSimulator(library, token=TOKEN, record=False) as sim:
        conn.send((sim.url, generated, sum(1 for _ in library.iter_items())))
        conn.recv()


def floor(url: str, page_size: int) -> tuple[float, int]:
    """Fetch and parse every page the sync reads, with plexapi's query() and nothing else."""
    from plexapi.server import PlexServer

    from syncing.clients.plex import TYPE_NUMBERS

    started, cpu = time.perf_counter(), time.process_time()
    server = PlexServer(url, TOKEN)
    requests = 1
    for section in server.library.sections():
        types = ("movie",) if section.type == "movie" else ("show", "season", "episode")
        for media_type in types:
            key = f"/library/sections/{section.key}/all?includeGuids=1&type={TYPE_NUMBERS[media_type]}"
            start, total = 0, None
            while total is None or start < total:
                headers = {
                    "X-Plex-Container-Start": str(start),
                    "X-Plex-Container-Size": str(page_size),
                }
                root = server.query(key, headers=headers)
                requests += 1
                total = int(root.attrib["totalSize"])
                start += int(root.attrib["size"])
    requests += 2  # /library and /library/sections
    return time.perf_counter() - started, requests, time.process_time() - cpu


def expected_pages(args: argparse.Namespace) -> int:
    """Pages the library needs: items of each type / page size, rounded up per type."""
    counts = (
        args.shows,
        args.shows * args.seasons_per_show,
        args.shows * args.episodes_per_show,
        args.movies,
    )
    return sum(-(-n // args.page_size) for n in counts)


def sync_once(server, label: str, profile: str | None = None):
    from syncing.services.plex_sync import plex_library_sync

    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    run = plex_library_sync(server=server, trigger="bench")
    if profiler:
        profiler.disable()
        profiler.dump_stats(f"{profile}-{label.split()[0].strip('-')}.prof")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if run.error:
        raise SystemExit(f"{label} failed: {run.error}")
    rate = run.items_seen / wall if wall else 0
    print(
        f"{label:<18} {wall:7.2f} s  (cpu {cpu:5.2f} s)  {run.requests_made:5d} requests  {run.pages_fetched:4d} pages  "
        f"{run.items_seen} seen / {run.items_created} created / {run.items_updated} updated / "
        f"{run.items_gone} gone  ({rate:,.0f} items/s)  peak RSS {common.peak_rss_mb():.0f} MB"
    )
    return wall, run


def main() -> None:
    args = parse_args()
    with common.child_process(serve, args) as (_, (url, generated, n_items)):
        common.django_setup()
        from django.conf import settings
        from django.db import connection

        from media.models import MediaItem, PlexServer

        settings.PLEX_PAGE_SIZE = args.page_size
        db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(
            f"library: {args.shows} shows x {args.episodes_per_show} episodes "
            f"({args.seasons_per_show} seasons) + {args.movies} movies = {n_items:,} items "
            f"(generated in {generated:.1f} s); page size {args.page_size}; database {db}"
        )
        floor_s, floor_requests, floor_cpu = floor(url, args.page_size)
        print(
            f"{'floor (query only)':<18} {floor_s:7.2f} s  (cpu {floor_cpu:5.2f} s)  "
            f"{floor_requests:5d} requests"
        )

        PlexServer.objects.filter(name="bench").delete()
        server = PlexServer.objects.create(name="bench", base_url=url, token=TOKEN)
        full, full_run = sync_once(server, "full sync", args.profile)
        again, again_run = sync_once(server, "no-change re-sync", args.profile)
        floor2_s, _, floor2_cpu = floor(url, args.page_size)
        print(
            f"{'floor, again':<18} {floor2_s:7.2f} s  (cpu {floor2_cpu:5.2f} s)  "
            "(the machine is shared: the lower wall time counts)"
        )
        floor_s = min(floor_s, floor2_s)
        rows = MediaItem.objects.filter(server=server).count()
        common.results_save(
            "plex",
            connection.vendor,
            {
                "items": n_items,
                "page_size": args.page_size,
                "floor_s": round(floor_s, 2),
                "full_sync_s": round(full, 2),
                "resync_s": round(again, 2),
                "peak_rss_mb": round(common.peak_rss_mb()),
                "rows": rows,
                "full_requests": full_run.requests_made,
                "resync_requests": again_run.requests_made,
                "expected_pages": expected_pages(args),
                "floor_requests": floor_requests,
            },
        )
        print(
            f"ratio to floor: full {full / floor_s:.2f}x, re-sync {again / floor_s:.2f}x; "
            f"rows {rows:,}; "
            f"peak RSS {common.peak_rss_mb():.0f} MB (simulator in a separate process)"
        )
        if os.environ.get("DATABASE_URL"):
            server.delete()


if __name__ == "__main__":
    main()
