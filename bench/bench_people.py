"""Benchmark: the candidates page under rules that know people.

Builds, in a throwaway database (SQLite file, or a test database next to DATABASE_URL's),
the library of bench_candidates (2,000 shows x 5 seasons x 10 episodes + 10,000 movies),
then 1,000,000 plays by 50 Tautulli users written through the sync's own upsert, item
statistics and the per-user rollup recomputed from them by the sync's own SQL, and 5,000 Seerr requests by 40 of
those users (linked by the sync's own linking). Two enabled rules: "Requester watched"
(requester must have watched, N = 100 %) and "Ignore guest" (the busiest account's plays do
not count). Times through Django's test client, p50 / p95 over N requests:

- the default page (any enabled rule, shows and movies), by show / season / episode / movie,
  by episode sorted by last watched and by plays, and the default page by last watched
  (orders that need every matching group's numbers);
- each rule alone on the default page.

    .venv/bin/python bench/bench_people.py [--requests 50] [--plays 1000000]

Budget (issue 15): the page with both rules p95 <= 150 ms on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_candidates import build_library, pct
from common import page_parser, peak_rss_mb, results_save, test_database
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

USERS, REQUESTERS = 50, 40
BATCH = 50_000


def _users(tautulli) -> list:
    from syncing.clients.tautulli import UserRow
    from syncing.services.tautulli_users import tautulli_users_store

    rows = [
        UserRow(100 + n, f"user{n:03d}", f"User {n}", f"user{n:03d}@example.test", n != 7, True)
        for n in range(USERS)
    ]  # user007 keeps no history in Tautulli: requests by them stay protected
    tautulli_users_store(tautulli=tautulli, rows=rows)
    return rows


def _plays(tautulli, server, total: int, rng: random.Random) -> float:
    """`total` plays through plays_upsert: half the titles are the household's (49 users),
    a third only ever played by user049, the "guest" account playing in the background
    (a tenth of the plays), the rest never played."""
    from media.models import MediaItem
    from syncing.clients.tautulli import HistoryRow
    from syncing.services.tautulli_plays import plays_upsert

    leaves = list(
        MediaItem.objects.filter(server=server, type__in=["movie", "episode"])
        .order_by("pk")  # the same plays on both databases
        .values_list("plex_id", "parent_plex_id", "grandparent_plex_id", "type")
    )
    share = {}  # whole shows and movies: 0-2 household, 3-4 guest only, 5 never played
    for leaf in leaves:
        share.setdefault(leaf[2] or leaf[0], rng.randrange(6))
    household = [leaf for leaf in leaves if share[leaf[2] or leaf[0]] <= 2]
    guest = [leaf for leaf in leaves if share[leaf[2] or leaf[0]] in (3, 4)]
    now, start, row_id = int(time.time()), time.perf_counter(), 0
    while row_id < total:
        batch = []
        for _ in range(min(BATCH, total - row_id)):
            row_id += 1
            is_guest = rng.random() < 0.1
            pool = guest if is_guest else household
            key, parent, grand, kind = pool[int(len(pool) * rng.random() ** 1.5)]
            user = USERS - 1 if is_guest else rng.randrange(USERS - 1)
            pct_done = rng.choice((100, 100, 95, 60, 30))
            started = now - rng.randrange(730 * 86_400)
            batch.append(
                HistoryRow(
                    row_id, row_id, key, parent, grand, kind, 100 + user, f"user{user:03d}",
                    started, started + 1800, 1800, 0, pct_done, 1.0 if pct_done >= 85 else 0.5,
                    "", "",
                )
            )  # fmt: skip
        plays_upsert(tautulli_id=tautulli.pk, rows=batch)
    return time.perf_counter() - start


def _requests(server, count: int, rng: random.Random) -> float:
    """`count` Seerr requests (70 % movies) by 40 users, linked by requests_link."""
    from media.models import MediaItem
    from syncing.models import SeerrRequest, SeerrServer
    from syncing.services.requests_link import requests_link

    with connection.cursor() as cursor:  # external ids, as a Plex sync would have stored
        cursor.execute(
            "UPDATE media_items SET tmdb_id = CAST(plex_id AS VARCHAR(32)) WHERE type = 'movie'"
        )
        cursor.execute(
            "UPDATE media_items SET tvdb_id = CAST(plex_id AS VARCHAR(32)) WHERE type = 'show'"
        )
    movies = list(MediaItem.objects.filter(type="movie").values_list("plex_id", flat=True))
    shows = list(MediaItem.objects.filter(type="show").values_list("plex_id", flat=True))
    seerr = SeerrServer.objects.create(name="bench", base_url="http://127.0.0.1:9", api_key="k")
    picks = [("movie", k) for k in rng.sample(movies, int(count * 0.7))]
    picks += [("tv", k) for k in rng.sample(shows, min(len(shows), count - len(picks)))]
    now = datetime.now(UTC)
    SeerrRequest.objects.bulk_create(
        [
            SeerrRequest(
                seerr=seerr, request_id=n, media_type=kind, status=2,
                tmdb_id=key if kind == "movie" else None, tvdb_id=key if kind == "tv" else None,
                requested_at=now - timedelta(days=rng.randrange(700)),
                requester_plex_username=f"user{rng.randrange(REQUESTERS):03d}",
            )
            for n, (kind, key) in enumerate(picks, 1)
        ],
        batch_size=1000,
    )  # fmt: skip
    start = time.perf_counter()
    requests_link()
    return time.perf_counter() - start


def _rules():
    from deletion.models import DeletionRule
    from syncing.models import TautulliUser

    # Every other rule off. These two stay on: switching "Ignore guest" off and on again
    # would recompute the stored numbers of ignored accounts twice (deletion.receivers).
    names = ("Requester watched", "Ignore guest")
    DeletionRule.objects.exclude(name__in=names).update(enabled=False)
    requester, _ = DeletionRule.objects.update_or_create(
        name="Requester watched", defaults={"requester_watched": "required", "enabled": True}
    )
    ignoring, _ = DeletionRule.objects.update_or_create(
        name="Ignore guest", defaults={"enabled": True}
    )
    ignoring.ignore_users.set([TautulliUser.objects.get(username=f"user{USERS - 1:03d}")])
    return requester, ignoring


def build(args) -> dict:
    from media.models import MediaItem
    from media.statistics import tables_analyze
    from syncing.models import TautulliServer, UserItemStats
    from syncing.services.tautulli_rollups import rollups_rebuild
    from syncing.services.tautulli_stats import item_stats_recompute, play_tables_analyze

    rng = random.Random(11)
    start = time.perf_counter()
    built = build_library(
        shows=args.shows, seasons=args.seasons, episodes=args.episodes, movies=args.movies
    )
    tautulli = TautulliServer.objects.get()
    _users(tautulli)
    figures = {"plays_write_s": round(_plays(tautulli, built["server"], args.plays, rng), 1)}
    clock = time.perf_counter()  # the rollups, then item statistics, as the sync does
    play_tables_analyze()
    rollups_rebuild(tautulli=tautulli)
    figures["rollup_rebuild_s"] = round(time.perf_counter() - clock, 1)
    clock = time.perf_counter()
    item_stats_recompute(tautulli_id=tautulli.pk, server_id=built["server"].pk)
    figures["item_stats_s"] = round(time.perf_counter() - clock, 1)
    tables_analyze(UserItemStats, MediaItem)  # as a bulk import does (media.statistics)
    figures["requests_link_s"] = round(_requests(built["server"], args.seerr_requests, rng), 2)
    # The rules before the ANALYZE: recording "Ignore guest" rewrites the stored numbers of
    # every item the guest played (a third of them), which left PostgreSQL's visibility map
    # stale for the measurement (index-only scans fetching heap pages: page SQL +15-20 %)
    # until an autovacuum that a running server gets within a minute. Timed: the admin's
    # save of a rule that ignores an account waits for that recomputation.
    clock = time.perf_counter()
    _rules()
    figures["ignore_record_s"] = round(time.perf_counter() - clock, 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
        cursor.execute("SELECT COUNT(*) FROM tautulli_user_item_stats")
        figures["rollup_rows"] = cursor.fetchone()[0]
    figures["build_s"] = round(time.perf_counter() - start, 1)
    return figures


def _groups(params: dict) -> int:
    """How many groups the page's filter matches (a sanity figure beside the timing)."""
    from deletion.filters import CandidateFilterForm
    from deletion.selectors import candidate_page_get

    f = CandidateFilterForm(params or None).to_candidate_filter()
    return candidate_page_get(f=f, per_page=1).total_count


def _timed(fn, n: int) -> tuple[list[float], list[float], list[float], int]:
    """Wall, CPU (this process: with SQLite that includes the queries) and SQL (the
    queries' own wall time, as Django's debug cursor records it) ms per call."""
    fn()  # warm up (and caches)
    wall, cpu, sql, queries = [], [], [], 0
    for _ in range(n):
        with CaptureQueriesContext(connection) as ctx:
            start, cpu_start = time.perf_counter(), time.process_time()
            fn()
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - cpu_start) * 1000)
        sql.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        queries = len(ctx.captured_queries)
    return wall, cpu, sql, queries


def measure(args, figures: dict) -> list[dict]:
    from django.contrib.auth import get_user_model

    requester, ignoring = _rules()
    user = get_user_model().objects.create_superuser(
        f"bench{time.time_ns()}", "b@example.org", "pw-bench-1"
    )
    client = Client()
    client.force_login(user)
    scenarios = [(f"both rules, group_by={g or 'overview'}", {"group_by": g} if g else {})
                 for g in ("", "show", "season", "episode", "movie")]  # fmt: skip
    scenarios += [  # orders by the rules' numbers (page_rows: computed for every match)
        ("both rules, group_by=episode, sort=watched", {"group_by": "episode", "sort": "watched"}),
        ("both rules, group_by=episode, sort=-plays", {"group_by": "episode", "sort": "-plays"}),
        ("both rules, overview, sort=watched", {"sort": "watched"}),
        ("requester rule alone, overview", {"rule": requester.pk}),
        ("ignore-users rule alone, overview", {"rule": ignoring.pk}),
    ]
    results = []
    print(
        f"{'scenario':44} {'p50 ms':>7} {'p95 ms':>7} {'cpu p50':>7} {'cpu p95':>7} "
        f"{'sql p50':>7} {'q':>3} {'rows':>6}"
    )
    for name, params in scenarios:
        rows = _groups(params)
        wall, cpu, sql, queries = _timed(
            lambda p=params: client.get("/deletion/", p), args.requests
        )
        row = {"scenario": name, "p50_ms": round(pct(wall, 50), 1),
               "p95_ms": round(pct(wall, 95), 1), "cpu_p50_ms": round(pct(cpu, 50), 1),
               "cpu_p95_ms": round(pct(cpu, 95), 1), "sql_p50_ms": round(pct(sql, 50), 1),
               "queries": queries, "groups": rows}  # fmt: skip
        results.append(row)
        print(f"{name:44} {row['p50_ms']:7.1f} {row['p95_ms']:7.1f} {row['cpu_p50_ms']:7.1f} "
              f"{row['cpu_p95_ms']:7.1f} {row['sql_p50_ms']:7.1f} {queries:3} {rows!s:>6}")  # fmt: skip
    return results


def main() -> None:
    parser = page_parser(requests=50)
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--seerr-requests", type=int, default=5000)
    parser.add_argument("--keep", metavar="DB", help="build once into this database, reuse it")
    args = parser.parse_args()
    if args.keep:  # build once into this SQLite file, then only measure against it
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        keep_measure(args)
        return
    with test_database("bench-people"):
        figures = build(args)
        print(f"{connection.vendor}: {figures}")
        figures["results"] = measure(args, figures)
        figures["peak_rss_mb"] = round(peak_rss_mb())
        results_save("people", connection.vendor, figures)


def keep_measure(args) -> None:
    """--keep FILE (SQLite) or --keep DBNAME (PostgreSQL): a kept database, built on the
    first run; later runs migrate it and only measure (for iterating on the page)."""
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    exists = Path(args.keep).exists() if db["ENGINE"].endswith("sqlite3") else None
    db["NAME"] = args.keep
    connection.close()
    if exists is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'media_items'")
            exists = bool(cursor.fetchone()[0])
    call_command("migrate", verbosity=0)
    if not exists:
        print(f"{connection.vendor}: {build(args)}")
    measure(args, {})


if __name__ == "__main__":
    main()
