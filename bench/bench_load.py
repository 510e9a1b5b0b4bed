"""Pages under load while the syncs run, on PostgreSQL (a script, not a test).

    .venv/bin/python bench/bench_load.py            # throwaway PostgreSQL 15, medium library
    .venv/bin/python bench/bench_load.py --small    # a quick check of the machinery
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_load.py

gunicorn with 4 worker processes serves the candidates page (`/deletion/`) and the
dashboard (`/`) to 20 concurrent logged-in clients for 60 s. Meanwhile a full Plex sync and
a full Tautulli import run, each in its own process, started together and again whenever
both are done, until the window closes (the load goes on until the last round ends). Before that, both syncs run alone to set the
baseline. Prints per page: requests, errors, p50/p95/max; per sync: time alone, mean time
under load, and the slowdown. The simulators run in a child process of their own.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import child_process, django_setup, library_args, library_parser, results_save  # noqa: E402

PAGES = {"candidates": "/deletion/", "dashboard": "/"}
SYNCS = {"plex": ["sync_plex"], "tautulli": ["sync_tautulli", "--full"]}


def parse_args() -> argparse.Namespace:
    p = library_parser(__doc__, shows=1000, seasons_per_show=4, episodes_per_show=40, movies=5000)
    p.add_argument("--plays", type=int, default=300_000)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--web-workers", type=int, default=4)
    p.add_argument("--seconds", type=float, default=60)
    args = library_args(p)
    if args.small:
        args.plays, args.seconds = 20_000, 15
    return args


def serve(args: argparse.Namespace, conn) -> None:
    """Child process: the demo simulators at the asked size, until told to stop."""
    from simulators.demo import DemoSize, demo_start

    size = DemoSize(
        shows=args.shows,
        seasons_per_show=args.seasons_per_show,
        episodes_per_season=args.episodes_per_show // args.seasons_per_show,
        movies=args.movies,
        users=50,
        days=730,
        plays=args.plays,
    )
    demo = demo_start(size=size, seed=17)
    conn.send(demo.env())
    conn.recv()
    demo.stop()


def _manage(env: dict[str, str], *args: str) -> float:
    """Run a management command to completion; its wall time (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_start(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    argv = [gunicorn, "smartplex.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/admin/login/", timeout=2).close()
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not answer")


def sessions(count: int) -> list[str]:
    """Session cookies of `count` logged-in staff users (superusers, like an admin)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_superuser("bench", password=secrets.token_hex(8))
    cookies = []
    for _ in range(count):
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    return cookies


class Load:
    """`clients` threads, each alternating between the pages, until `stop` is set."""

    def __init__(self, url: str, cookies: list[str]):
        self.url, self.cookies = url, cookies
        self.stop = threading.Event()
        self.times: dict[str, list[float]] = {name: [] for name in PAGES}
        self.errors: dict[str, list[str]] = {name: [] for name in PAGES}

    def client(self, index: int) -> None:
        names = list(PAGES)
        turn = index
        while not self.stop.is_set():
            name = names[turn % len(names)]
            turn += 1
            request = urllib.request.Request(
                self.url + PAGES[name], headers={"Cookie": f"sessionid={self.cookies[index]}"}
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                    ok = response.status == 200 and "/login/" not in response.url
                    why = "" if ok else f"status {response.status} at {response.url}"
            except OSError as exc:
                why = f"{type(exc).__name__}: {exc}"
            (self.errors[name] if why else self.times[name]).append(
                why or time.perf_counter() - started
            )

    def run(self, seconds: float, during) -> dict:
        threads = [
            threading.Thread(target=self.client, args=(i,)) for i in range(len(self.cookies))
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            during(seconds)
        finally:
            self.stop.set()
            for thread in threads:
                thread.join()
        self.elapsed = time.monotonic() - started
        return {name: _page_figures(self.times[name], self.errors[name]) for name in PAGES}


def _page_figures(times: list[float], errors: list[str]) -> dict:
    ordered = sorted(times) or [0.0]
    return {
        "requests": len(times) + len(errors),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "p50_ms": round(statistics.median(ordered) * 1000),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000),
        "max_ms": round(ordered[-1] * 1000),
    }


def syncs_together(env: dict[str, str]) -> dict[str, float]:
    """A Plex full sync and a Tautulli full import started at once; each one's wall time."""
    took: dict[str, float] = {}
    threads = [
        threading.Thread(target=lambda k=kind: took.__setitem__(k, _manage(env, *SYNCS[k])))
        for kind in SYNCS
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return took


def main() -> None:
    args = parse_args()
    own_pg = not os.environ.get("DATABASE_URL", "").startswith("postgres")
    if own_pg:
        from bench.run_all import pg_cluster, pg_database

        with pg_cluster() as (pg_dir, user):
            os.environ["DATABASE_URL"] = pg_database(pg_dir, user, "smartplex_load")
            bench(args)
    else:
        bench(args)


def bench(args: argparse.Namespace) -> None:
    os.environ.setdefault("SMARTPLEX_DATA_DIR", tempfile.mkdtemp(prefix="smartplex-load-"))
    django_setup()
    with child_process(serve, args) as (_, sim_env):
        env = {**os.environ, **sim_env, "LOG_LEVEL": "WARNING", "DEBUG": "0"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        _manage(env, "collectstatic", "--noinput")  # served by WhiteNoise, as in production
        _manage(env, "sync_plex")  # the first import fills the library and its history
        _manage(env, "sync_tautulli", "--full")
        alone = {kind: _manage(env, *SYNCS[kind]) for kind in SYNCS}
        web, url = web_start(env, args.web_workers)
        try:
            figures = _loaded(args, env, url, alone)
        finally:
            web.terminate()
            web.wait(timeout=30)
    _print(figures)
    results_save("load", "postgresql", figures)


def _loaded(args: argparse.Namespace, env: dict[str, str], url: str, alone: dict) -> dict:
    rounds: list[dict[str, float]] = []

    def during(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rounds.append(syncs_together(env))

    load = Load(url, sessions(args.clients))
    pages = load.run(args.seconds, during)
    under = {kind: statistics.mean(r[kind] for r in rounds) for kind in SYNCS}
    return {
        "clients": args.clients,
        "web_workers": args.web_workers,
        "seconds": round(load.elapsed),  # the window, stretched to the end of the last round
        "library": {"shows": args.shows, "movies": args.movies, "plays": args.plays},
        "pages": pages,
        "syncs": {
            kind: {
                "alone_s": round(alone[kind], 1),
                "under_load_s": round(under[kind], 1),
                "slowdown": round(under[kind] / alone[kind], 2),
                "rounds": len(rounds),
            }
            for kind in SYNCS
        },
    }


def _print(figures: dict) -> None:
    print(
        f"\n{figures['clients']} clients, {figures['web_workers']} gunicorn workers, "
        f"{figures['seconds']:.0f} s; library {figures['library']}"
    )
    for name, page in figures["pages"].items():
        print(
            f"  {name:<11} {page['requests']:>5} requests, {page['errors']} errors, "
            f"p50 {page['p50_ms']} ms, p95 {page['p95_ms']} ms, max {page['max_ms']} ms"
            + (f"  first error: {page['first_error']}" if page["errors"] else "")
        )
    for kind, sync in figures["syncs"].items():
        print(
            f"  {kind:<11} alone {sync['alone_s']} s, under load {sync['under_load_s']} s "
            f"(mean of {sync['rounds']}) = {sync['slowdown']}x"
        )


if __name__ == "__main__":
    main()
