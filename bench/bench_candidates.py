"""Benchmark: the candidates page and the library admin on a large library.

Builds, in a throwaway database (SQLite file, or a test database next to DATABASE_URL's),
2,000 shows × 5 seasons × 10 episodes (with show and season rows) + 10,000 movies with
statistics, written directly in bulk. Then times, through Django's test client:

- the candidates page grouped by show / season / episode / movie and the overview, with and
  without filters (wall and CPU p50 / p95 over N requests, SQL queries per request);
- the bare page SQL (the grouped aggregate with its ORDER BY / LIMIT), the floor;
- the MediaItem admin changelist, first page and a filtered page.

    .venv/bin/python bench/bench_candidates.py [--requests 50] [--shows 2000] [--movies 10000]

Budgets: page p95 ≤ 120 ms (issue 14; was 250 ms) and within 3x of the bare SQL; admin
≤ 300 ms. Each page row also reports this process's CPU time per request (p50 / p95).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartplex.settings_test")
os.environ.setdefault("SMARTPLEX_DATA_DIR", tempfile.mkdtemp(prefix="smartplex-bench-"))

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, no collectstatic

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import page_parser, pct, test_database, timing_row  # noqa: E402

GB = 1024**3


def build_library(*, shows: int, seasons: int, episodes: int, movies: int) -> dict:
    from deletion.models import DeletionRequest, Exclusion
    from media.models import LibrarySection, MediaItem, PlexServer
    from syncing.models import Play, SyncRun, TautulliServer

    rng = random.Random(7)
    now = timezone.now()
    server = PlexServer.objects.create(name="bench", base_url="http://127.0.0.1:9", token="t")
    movie_sec = LibrarySection.objects.create(
        server=server, key="1", title="Movies", section_type="movie"
    )
    tv_sec = LibrarySection.objects.create(server=server, key="2", title="TV", section_type="show")
    tautulli = TautulliServer.objects.create(
        name="bench", base_url="http://127.0.0.1:9", api_key="k", plex_server=server
    )
    Play.objects.create(tautulli=tautulli, row_id=1, started=now - timedelta(days=1200))
    SyncRun.objects.create(
        kind="tautulli",
        tautulli_server=tautulli,
        lock_key="tautulli:x",
        status="success",
        finished_at=now,
    )

    def stats(stale: bool) -> dict:
        """Stale groups (old, idle) are candidates; active ones mostly are not."""
        watched = rng.random() < 0.5
        added = rng.uniform(400, 1000) if stale else rng.uniform(0, 1000)
        last = rng.uniform(200, 400) if stale else rng.uniform(0, 400)
        return {
            "added_at": now - timedelta(days=added),
            "last_watched_at": now - timedelta(days=last) if watched else None,
            "total_play_count": (rng.randint(0, 1) if stale else rng.randint(1, 5))
            if watched
            else 0,
            "file_size_bytes": int(rng.uniform(0.3, 3) * GB),
        }

    key = 10_000
    rows: list[MediaItem] = []

    def flush(force: bool = False) -> None:
        if rows and (force or len(rows) >= 5000):
            MediaItem.objects.bulk_create(rows, batch_size=5000)
            rows.clear()

    words = ["Harbor", "Iron", "Glass", "River", "Echo", "Paper", "Quiet", "Wild", "Golden"]
    for s in range(shows):
        title = f"{rng.choice(words)} {rng.choice(words)} {s}"
        stale = rng.random() < 0.4
        show_plex_id = key = key + 1
        rows.append(
            MediaItem(server=server, section=tv_sec, plex_id=show_plex_id, type="show", title=title)
        )
        for n in range(1, seasons + 1):
            season_plex_id = key = key + 1
            in_show = {"server": server, "section": tv_sec, "season_number": n}
            season = {"parent_title": title, "parent_plex_id": show_plex_id}
            rows.append(
                MediaItem(**in_show, **season, plex_id=key, type="season", title=f"Season {n}")
            )
            in_season = {"grandparent_title": title, "grandparent_plex_id": show_plex_id}
            in_season |= {"parent_title": f"Season {n}", "parent_plex_id": season_plex_id}
            for e in range(1, episodes + 1):
                key += 1
                episode = {"plex_id": key, "title": f"Episode {e}", "episode_number": e}
                rows.append(
                    MediaItem(**in_show, **in_season, **episode, type="episode", **stats(stale))
                )
        flush()
    for m in range(movies):
        key += 1
        rows.append(
            MediaItem(
                server=server,
                section=movie_sec,
                plex_id=key,
                type="movie",
                title=f"{rng.choice(words)} {rng.choice(words)} movie {m}",
                **stats(rng.random() < 0.4),
            )
        )
        flush()
    flush(force=True)
    for n in range(100):  # some protected movies and approved shows, as in real use
        Exclusion.objects.create(server=server, level="movie", plex_id=key - n, title="x")
        DeletionRequest.objects.create(
            server=server,
            level="show",
            plex_id=10_001 + n * (1 + seasons * (episodes + 1)),
            show_plex_id=10_001 + n * (1 + seasons * (episodes + 1)),
            approved_at=now,
        )
    return {"rows": MediaItem.objects.count(), "server": server}


def timed(fn, n: int, cpu: list[float] | None = None) -> tuple[list[float], int]:
    """Wall times in ms (and this process's CPU times into `cpu`: on a shared machine the
    wall time includes waiting for a core; with SQLite the CPU time includes the queries,
    with PostgreSQL the server's share is not in it)."""
    fn()  # warm up (and caches)
    times, queries = [], 0
    for _ in range(n):
        with CaptureQueriesContext(connection) as ctx:
            start, cpu_start = time.perf_counter(), time.process_time()
            fn()
            times.append((time.perf_counter() - start) * 1000)
            if cpu is not None:
                cpu.append((time.process_time() - cpu_start) * 1000)
        queries = len(ctx.captured_queries)
    return times, queries


def bare_sql(params: dict):
    """The page's one aggregate query (page + totals), raw through the cursor: the floor."""
    from deletion.filters import CandidateFilterForm
    from deletion.history import history_state_get
    from deletion.selectors import candidate_groups, candidate_page_sql

    f = CandidateFilterForm(params or None).to_candidate_filter()
    parts = candidate_groups(f=f, history=history_state_get())
    sql, sql_params = candidate_page_sql(parts, f.sort, 50, 0)

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, sql_params)
            cursor.fetchall()

    return run


def main() -> None:
    args = page_parser(requests=50).parse_args()
    with test_database("bench"):
        run(args)


def run(args) -> None:
    from django.contrib.auth import get_user_model

    start = time.perf_counter()
    built = build_library(
        shows=args.shows, seasons=args.seasons, episodes=args.episodes, movies=args.movies
    )
    if connection.vendor == "sqlite":
        connection.cursor().execute("ANALYZE")
    else:
        # Steady state: autovacuum has set the visibility map, so index-only scans work.
        connection.cursor().execute("VACUUM ANALYZE media_items")
    print(
        f"{connection.vendor}: {built['rows']:,} media_items rows built in "
        f"{time.perf_counter() - start:.1f}s"
    )

    user = get_user_model().objects.create_superuser("bench", "b@example.org", "pw-bench-1")
    client = Client()
    client.force_login(user)
    filtered = {"q": "Harbor", "min_size_gb": "1"}
    scenarios = [
        (f"candidates {label}", {**extra, **({"group_by": g} if g else {})})
        for g in ("show", "season", "episode", "movie", "")
        for label, extra in (
            (f"group_by={g or 'overview'}", {}),
            (f"group_by={g or 'overview'} +filters", filtered),
        )
    ]
    results = []
    header = (
        f"{'scenario':46} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8} "
        f"{'SQL p50':>8} {'x SQL':>6} {'queries':>7}"
    )
    print(f"load average before the requests: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(header)
    print("-" * len(header))
    for name, params in scenarios:
        cpu: list[float] = []
        times, queries = timed(lambda p=params: client.get("/deletion/", p), args.requests, cpu)
        floor, _ = timed(bare_sql(params), args.requests)
        row = timing_row(name, times, cpu, queries, sql_p50_ms=round(pct(floor, 50), 1))
        row["x_sql"] = round(row["p50_ms"] / row["sql_p50_ms"], 1) if row["sql_p50_ms"] else None
        results.append(row)
        print(
            f"{name:46} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['cpu_p50_ms']:8.1f} "
            f"{row['cpu_p95_ms']:8.1f} {row['sql_p50_ms']:8.1f} {row['x_sql']:6} {queries:7}"
        )
    admin_url = "/admin/media/mediaitem/"
    for name, params in (
        ("admin changelist first page", {}),
        (
            "admin changelist filtered",
            {"type__exact": "episode", "watched": "stale", "q": "Harbor"},
        ),
    ):
        times, queries = timed(lambda p=params: client.get(admin_url, p), args.requests)
        row = {
            "scenario": name,
            "p50_ms": round(pct(times, 50), 1),
            "p95_ms": round(pct(times, 95), 1),
            "queries": queries,
        }
        results.append(row)
        print(f"{name:46} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {'':8} {'':6} {queries:7}")
    from bench.common import results_save

    figures = {"rows": built["rows"], "load": round(os.getloadavg()[0], 1), "results": results}
    results_save("candidates", connection.vendor, figures)


if __name__ == "__main__":
    main()
