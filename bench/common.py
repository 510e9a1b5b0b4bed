"""What the benchmark scripts share: the library-size options, the simulators in a child
process, Django set-up on a fresh database, peak memory, and where their figures are saved
for `run_all.py`."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def django_setup(*, prefix: str = "smartplex-bench-") -> None:
    """DATABASE_URL when set, else a fresh SQLite file in a temp folder; then migrate."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["SMARTPLEX_DATA_DIR"] = tempfile.mkdtemp(prefix=prefix)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartplex.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def results_save(name: str, vendor: str, figures: dict) -> None:
    """Latest figures in bench/results/<name>-<vendor>.json (git-ignored), for run_all."""
    out = ROOT / "bench" / "results" / f"{name}-{vendor}.json"
    out.parent.mkdir(exist_ok=True)
    figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"results written to {out.relative_to(ROOT)}")


def library_parser(doc: str | None, **defaults: int) -> argparse.ArgumentParser:
    """The options of a generated library (2,000 shows x 5 seasons x 50 episodes + 10,000
    movies unless `defaults` says otherwise) and `--small`; see `library_args`."""
    sizes = {"shows": 2000, "seasons_per_show": 5, "episodes_per_show": 50, "movies": 10_000}
    sizes.update(defaults)
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    for name, default in sizes.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    p.add_argument("--small", action="store_true", help="100 shows x 10 episodes + 500 movies")
    return p


def library_args(p: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse; `--small` shrinks the library; episodes must split evenly into seasons."""
    args = p.parse_args()
    if args.small:
        args.shows, args.episodes_per_show, args.seasons_per_show, args.movies = 100, 10, 2, 500
    if args.episodes_per_show % args.seasons_per_show:
        p.error("--episodes-per-show must be a multiple of --seasons-per-show")
    return args


def library_generate(args: argparse.Namespace):
    """The simulators' library of the size `library_args` parsed. Its objects are then
    frozen out of the cycle collector: a full collection over a 122k-item heap paused the
    simulator for up to half a second at random, inside the one timed sync and not inside
    the best-of-two floor (the stand-in's pauses are not SmartPlex's cost)."""
    import gc

    from simulators.library import generate_library

    library = generate_library(
        shows=args.shows,
        seasons_per_show=args.seasons_per_show,
        episodes_per_season=args.episodes_per_show // args.seasons_per_show,
        movies=args.movies,
    )
    gc.collect()
    gc.freeze()
    return library


@contextmanager
def child_process(
    serve: Callable[[Any, Any], None], args: Any, *, start: str = "spawn"
) -> Iterator[tuple[Any, Any]]:
    """Run `serve(args, conn)` in a child (simulators off the measured process's CPU and
    GIL); yield our end of the pipe and the child's first message; always tell it to stop."""
    ctx = mp.get_context(start)  # spawn: a clean child, no Django state or DB connection
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(args, child), daemon=True)
    proc.start()
    try:
        yield parent, parent.recv()
    finally:
        parent.send("stop")
        proc.join(timeout=30)


def pct(times: list[float], p: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timing_row(name: str, wall: list[float], cpu: list[float], queries: int, **extra) -> dict:
    """One page scenario as every page benchmark stores it: wall and CPU ms, p50 / p95."""
    figures = {"p50_ms": wall, "p95_ms": wall, "cpu_p50_ms": cpu, "cpu_p95_ms": cpu}
    row = {k: round(pct(v, 95 if "p95" in k else 50), 1) for k, v in figures.items()}
    return {"scenario": name, **row, **extra, "queries": queries}


def page_parser(requests: int) -> argparse.ArgumentParser:
    """The options of the page benchmarks: page loads per scenario and the library's size."""
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=requests, help="page loads per scenario")
    p.add_argument("--shows", type=int, default=2000)
    p.add_argument("--seasons", type=int, default=5)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--movies", type=int, default=10_000)
    return p


@contextmanager
def test_database(name: str) -> Iterator[None]:
    """A throwaway database for the page benchmarks, served to the test client; a file for
    SQLite (like production, not :memory:). Not setup_test_environment(): it instruments
    every template render (the client then copies the context of each row include), which
    production never pays. The start-up heap is frozen as the web server does
    (smartplex.heap)."""
    from django.conf import settings
    from django.db import connection

    from smartplex.heap import heap_freeze

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(Path(settings.DATA_DIR) / f"{name}.sqlite3")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    heap_freeze()
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
