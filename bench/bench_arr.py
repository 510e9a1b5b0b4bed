"""Benchmark sync_arr against the Radarr and Sonarr simulators (a script, not a test).

    .venv/bin/python bench/bench_arr.py              # 2,000 shows x 50 eps (100k) + 10k movies
    .venv/bin/python bench/bench_arr.py --small      # a quick check

The Plex mirror is filled first by the real Plex sync (not timed), so sync_arr has 110k
items to link to. Then, for Radarr and for Sonarr: the floor (fetching and parsing the same
JSON sync_arr reads — the same requests, one at a time, with `requests` and `json` and
nothing else; the lower of two runs counts), one `sync_arr` run through the run skeleton
(read, link, write every row, disk space, the after-run receivers) and a re-sync with
nothing changed. Wall and CPU time (all threads) are printed; `--profile` writes cProfile
files.
The simulators run in a child process, so neither their memory nor (mostly) their CPU is
charged to the sync. Uses DATABASE_URL when set, otherwise a fresh SQLite database.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

KEY = "bench-arr-key"
TOKEN = "bench-token"


def parse_args() -> argparse.Namespace:
    p = common.library_parser(__doc__)
    p.add_argument("--profile", metavar="PREFIX", help="cProfile each run to PREFIX-<kind>.prof")
    return common.library_args(p)


def serve(args: argparse.Namespace, conn) -> None:
    """Child process: one library served by Plex, Radarr and Sonarr simulators."""
    from simulators.plex import PlexSimulator
    from simulators.radarr import radarr_from_library
    from simulators.sonarr import sonarr_from_library

    library = common.library_generate(args)
    with (
        PlexSimulator(library, token=TOKEN, record=False) as plex,
        radarr_from_library(library, api_key=KEY, arr_prefix="/movies") as radarr,
        sonarr_from_library(library, api_key=KEY) as sonarr,
    ):
        radarr.calls = _NoLog()
        sonarr.calls = _NoLog()
        conn.send((plex.url, radarr.url, sonarr.url))
        conn.recv()


class _NoLog(list):
    """The benchmark keeps no call log (it would only cost the simulator memory)."""

    def append(self, item) -> None:
        pass


def floor(kind: str, url: str) -> tuple[float, int]:
    """Fetch and parse every answer sync_arr reads, with requests + json only."""
    import requests

    session = requests.Session()
    session.headers["X-Api-Key"] = KEY
    started, cpu, made = time.perf_counter(), time.process_time(), 0

    def get(path: str, **params):
        nonlocal made
        made += 1
        return json.loads(session.get(f"{url}/api/v3/{path}", params=params, timeout=600).content)

    get("system/status")
    if kind == "radarr":
        get("movie")
    else:
        for series in get("series"):
            get("episodefile", seriesId=series["id"])
            get("episode", seriesId=series["id"])
    get("diskspace")
    get("rootfolder")
    return time.perf_counter() - started, made, time.process_time() - cpu


def sync_timed(server, profile: str | None) -> tuple:
    """One sync_arr run through the run skeleton: (run, wall seconds, CPU seconds)."""
    from syncing.runs import run_now

    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    run = run_now(kind="arr", target=server, trigger="bench")
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler:
        profiler.disable()
        profiler.dump_stats(f"{profile}.prof")
    assert run.status == "success", run.error
    return run, took, cpu


def measure(kind: str, server, url: str, args: argparse.Namespace) -> dict:
    """The floor, a first sync (every row new) and a re-sync with nothing changed."""
    floor_s, made, floor_cpu = min(floor(kind, url) for _ in range(2))
    profile = f"{args.profile}-{kind}" if args.profile else None
    run, took, cpu = sync_timed(server, profile)
    again, again_s, _ = sync_timed(server, f"{profile}-resync" if profile else None)
    print(
        f"{kind}: sync_arr {took:.1f} s = {took / floor_s:.2f}x the floor ({floor_s:.1f} s, "
        f"{made} requests); {run.items_seen:,} rows, {run.items_updated:,} linked, "
        f"{run.unmatched} unmatched, {run.requests_made} requests; CPU {cpu:.1f} s (floor "
        f"{floor_cpu:.1f} s); phases {run.details.get('timings')}\n"
        f"{kind}: re-sync, nothing changed: {again_s:.1f} s = {again_s / floor_s:.2f}x the floor; "
        f"rows written {again.details.get('rows_written')}; phases {again.details.get('timings')}"
    )
    return {
        "sync_s": round(took, 2), "floor_s": round(floor_s, 2), "ratio": round(took / floor_s, 2),
        "resync_s": round(again_s, 2), "rows": run.items_seen, "linked": run.items_updated,
        "requests": run.requests_made, "floor_requests": made, "cpu_s": round(cpu, 2),
        "floor_cpu_s": round(floor_cpu, 2), "phases": run.details.get("timings"),
    }  # fmt: skip


def main() -> None:
    args = parse_args()
    common.django_setup(prefix="smartplex-bench-arr-")
    from django.db import connection

    with common.child_process(serve, args) as (_, urls):
        common.results_save("arr", connection.vendor, measure_all(args, *urls))


def measure_all(args: argparse.Namespace, plex_url: str, radarr_url: str, sonarr_url: str) -> dict:
    """A Plex mirror, then the floor and the syncs of Radarr and of Sonarr."""
    from django.db import connection

    from syncing.runs import run_now
    from tests import factories

    vendor = connection.vendor
    plex = factories.plex_server(name="Bench Plex", base_url=plex_url, token=TOKEN)
    started = time.perf_counter()
    plex_run = run_now(kind="plex", target=plex, trigger="bench")
    print(
        f"Plex mirror filled: {plex_run.items_seen:,} items in {time.perf_counter() - started:.1f} s ({vendor})"
    )
    figures = {"vendor": vendor}
    for kind, url, mapping in (
        ("radarr", radarr_url, [["/movies", "/data/movies"]]),
        ("sonarr", sonarr_url, []),
    ):
        named = {"kind": kind, "name": f"Bench {kind}", "base_url": url, "api_key": KEY}
        server = factories.arr_server(**named, plex=plex, path_mappings=mapping)
        figures[kind] = measure(kind, server, url, args)
    figures["peak_rss_mb"] = round(common.peak_rss_mb())
    print(f"peak RSS {figures['peak_rss_mb']} MB")
    return figures


if __name__ == "__main__":
    main()
