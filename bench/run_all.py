"""Run every benchmark on SQLite and PostgreSQL and print one table against the budgets.

    .venv/bin/python bench/run_all.py                  # full size, both databases (~15 min)
    .venv/bin/python bench/run_all.py --small          # a quick check of the machinery
    .venv/bin/python bench/run_all.py --db postgres    # one database only

Each script (bench_plex, bench_tautulli, bench_candidates, bench_planner, bench_people,
bench_arr) runs as its own process, so
one's memory and caches never count for another, and writes its figures to
bench/results/<name>-<db>.json (git-ignored); this script reads them back. For
PostgreSQL it starts a throwaway PostgreSQL 15 cluster like scripts/pg.sh (as root,
initdb/pg_ctl run as the `postgres` user), gives each script its own database, and always
stops the cluster. A benchmark is not a test: a missed budget never fails the exit code.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
VENDOR = {"sqlite": "sqlite", "postgres": "postgresql"}

# Budgets from issue 7, and issue 15 for the page under rules that know people.
PLEX_RATIO, TAUTULLI_RATIO, RSS_MB, INCREMENTAL_S = 2.0, 2.0, 400, 5.0
PAGE_P95_MS, PAGE_X_SQL, ADMIN_MS = 120, 3.0, 300  # page p95 tightened from 250 ms by issue 14
# Budgets from issue 14.
PLANNER_MS, DASHBOARD_MS, PLANNER_POOL = 300, 150, 5000
PEOPLE_P95_MS = 150  # issue 15
IGNORE_RECORD_S = 5.0  # the admin's save of such a rule waits for it (deletion.receivers)
ARR_RATIO = 2.0  # issue 12: sync_arr within 2x fetching + parsing the same JSON


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--small", action="store_true", help="small libraries: checks the machinery")
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument(
        "--only",
        choices=("plex", "tautulli", "candidates", "planner", "people", "arr"),
        action="append",
        help="repeatable",
    )
    p.add_argument("--report", action="store_true", help="only print the table of saved results")
    p.add_argument(
        "--page-requests", type=int, help="page loads per scenario (candidates, planner, people)"
    )
    return p.parse_args()


def script_args(name: str, small: bool) -> list[str]:
    """Full size per issue 7, or a small library that runs in seconds."""
    if name in ("plex", "arr"):
        return ["--small"] if small else []
    if name == "tautulli":
        return ["--rows", "50000", "--users", "20"] if small else []
    if name == "people":
        small_args = ["--plays", "50000", "--seerr-requests", "500"]
        return (
            ["--shows", "200", "--movies", "1000", "--requests", "10", *small_args] if small else []
        )
    return ["--shows", "200", "--movies", "1000", "--requests", "10"] if small else []


# --- a throwaway PostgreSQL 15 cluster (the same steps as scripts/pg.sh) ---------------


def _as_pg(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else cmd


@contextmanager
def pg_cluster():
    """Yield (socket dir, user) of a fresh cluster; always stop and remove it."""
    if not (PG_BIN / "initdb").exists():
        raise SystemExit(f"PostgreSQL 15 not found in {PG_BIN} (scripts/pg.sh installs it)")
    pg_dir = Path(tempfile.mkdtemp(prefix="smartplex-bench-pg."))
    pg_dir.chmod(0o755)
    user = "postgres" if os.getuid() == 0 else os.environ.get("USER", "postgres")
    if os.getuid() == 0:
        shutil.chown(pg_dir, "postgres")
    data = str(pg_dir / "data")
    try:
        subprocess.run(
            _as_pg([str(PG_BIN / "initdb"), "-D", data, "-A", "trust", "-U", user]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        opts = f"-k {pg_dir} -h '' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        ctl = [str(PG_BIN / "pg_ctl"), "-D", data, "-l", str(pg_dir / "log"), "-w"]
        subprocess.run(_as_pg([*ctl, "-o", opts, "start"]), check=True, stdout=subprocess.DEVNULL)
        yield pg_dir, user
    finally:
        if (pg_dir / "data" / "postmaster.pid").exists():
            subprocess.run(
                _as_pg([str(PG_BIN / "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(pg_dir, ignore_errors=True)


def pg_database(pg_dir: Path, user: str, name: str) -> str:
    """Create database `name` in the cluster; returns its DATABASE_URL."""
    subprocess.run(
        [str(PG_BIN / "createdb"), "-h", str(pg_dir), "-U", user, name],
        check=True,
    )
    return f"postgres://{user}@{quote(str(pg_dir), safe='')}/{name}"


# --- running ----------------------------------------------------------------------------


def bench_run(
    name: str, db: str, small: bool, database_url: str | None, extra: list[str] = ()
) -> None:
    script = ROOT / "bench" / f"bench_{name}.py"
    if not script.exists():
        print(f"-- {script.name} not found: skipped", flush=True)
        return
    result = RESULTS / f"{name}-{VENDOR[db]}.json"
    result.unlink(missing_ok=True)  # a failed run must not report an old figure
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SMARTPLEX_DATA_DIR"] = tempfile.mkdtemp(prefix=f"smartplex-bench-{name}-")
    env["LOG_LEVEL"] = "WARNING"
    if database_url:
        env["DATABASE_URL"] = database_url
    cmd = [sys.executable, str(script), *script_args(name, small), *extra]
    print(f"\n== {name} on {db}: {' '.join(cmd[1:])}", flush=True)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT)
    print(f"== {name} on {db}: exit {proc.returncode}, {time.perf_counter() - started:.0f} s")
    shutil.rmtree(env["SMARTPLEX_DATA_DIR"], ignore_errors=True)


def run_database(db: str, names: list[str], small: bool, pages: int | None = None) -> None:
    def extra(name: str) -> list[str]:
        return (
            ["--requests", str(pages)]
            if pages and name in ("candidates", "planner", "people")
            else []
        )

    if db == "sqlite":
        for name in names:
            bench_run(name, db, small, None, extra(name))
        return
    with pg_cluster() as (pg_dir, user):
        for name in names:
            url = pg_database(pg_dir, user, f"bench_{name}")
            bench_run(name, db, small, url, extra(name))


# --- the table --------------------------------------------------------------------------


def load(name: str, db: str) -> dict | None:
    path = RESULTS / f"{name}-{VENDOR[db]}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _row(label: str, budget: str, cells: dict[str, tuple[str, bool | str | None]]) -> list:
    return [label, cells, budget]


def _cells(res: dict[str, dict | None], fn) -> dict:
    """One cell per database: fn(result) -> (text, within budget), or a dash when not run."""
    return {db: fn(r) if r else ("—", None) for db, r in res.items()}


def _ratio_row(res: dict, label: str, key: str, ratio: float, floor: str) -> list:
    """A sync's wall time against its floor's, within `ratio` times."""
    return _row(
        label,
        f"≤ {ratio:.0f}x {floor}",
        _cells(
            res,
            lambda r: (
                f"{r[key]:.1f} s = {r[key] / r['floor_s']:.2f}x (floor {r['floor_s']:.1f} s)",
                r[key] <= ratio * r["floor_s"],
            ),
        ),
    )


def _rss_row(res: dict, label: str) -> list:
    return _row(
        label,
        f"≤ {RSS_MB} MB",
        _cells(res, lambda r: (f"{r['peak_rss_mb']} MB", r["peak_rss_mb"] <= RSS_MB)),
    )


def plex_rows(res: dict[str, dict | None]) -> list:
    def requests(r):
        expected = r.get("expected_pages")
        if expected is None:
            return (str(r.get("full_requests", "?")), None)
        ok = max(r["full_requests"], r["resync_requests"]) <= math.ceil(expected * 1.1) + 10
        return (f"{r['full_requests']} / {r['resync_requests']} (pages {expected})", ok)

    def resync(r):
        took = r["resync_s"]
        return (f"{took:.1f} s = {took / r['floor_s']:.2f}x floor", took <= r["full_sync_s"])

    items = next((r["items"] for r in res.values() if r), 0)
    return [
        _ratio_row(res, f"Plex full sync ({items:,} items)", "full_sync_s", PLEX_RATIO, "floor"),
        _row("Plex no-change re-sync", "≤ full sync", _cells(res, resync)),
        _row("Plex requests, full / re-sync", "≈ items / page size", _cells(res, requests)),
        _rss_row(res, "Plex peak RSS"),
    ]


def tautulli_rows(res: dict[str, dict | None]) -> list:
    def incremental(r):
        cpu = f" (CPU {r['incremental_cpu_s']:.2f} s)" if "incremental_cpu_s" in r else ""
        return (f"{r['incremental_s']:.2f} s{cpu}", r["incremental_s"] <= INCREMENTAL_S)

    rows = next((r["rows"] for r in res.values() if r), 0)
    new = next((r["new_plays"] for r in res.values() if r), 0)
    return [
        _ratio_row(
            res, f"Tautulli full import ({rows:,} rows)", "full_s", TAUTULLI_RATIO, "fetch+parse"
        ),
        _row(
            f"Tautulli incremental ({new:,} new)",
            f"≤ {INCREMENTAL_S:.0f} s",
            _cells(res, incremental),
        ),
        _rss_row(res, "Tautulli peak RSS"),
    ]


def _cpu(s: dict) -> str:
    """The request's CPU time in this process (p50 / p95), when the script measured it."""
    if "cpu_p95_ms" not in s:
        return ""
    return f" (CPU {s['cpu_p50_ms']:.0f}/{s['cpu_p95_ms']:.0f})"


def _by_scenario(res: dict[str, dict | None]) -> dict[str, dict[str, tuple | None]]:
    """Per scenario of the page scripts (first-seen order across databases): per database
    (the script's result, the scenario's figures), or None where it was not measured."""
    found: dict[str, dict[str, tuple | None]] = {}
    for r in res.values():
        for s in (r or {}).get("results", []):
            found.setdefault(s["scenario"], dict.fromkeys(res))
    for db, r in res.items():
        for s in (r or {}).get("results", []):
            found[s["scenario"]][db] = (r, s)
    return found


def _scenario_cells(per_db: dict[str, tuple | None], fn) -> dict:
    """One cell per database: fn(result, scenario) -> (text, within budget), or a dash."""
    return {db: fn(*pair) if pair else ("—", None) for db, pair in per_db.items()}


def candidates_rows(res: dict[str, dict | None]) -> list:
    def page(r: dict, s: dict):
        x = s.get("x_sql")
        fast = s["p95_ms"] <= PAGE_P95_MS
        ok: bool | str = fast and (x is None or x <= PAGE_X_SQL)
        if fast and not ok:
            ok = "3x"  # within budget, but not within 3x of the bare SQL
        text = f"p95 {s['p95_ms']:.0f} ms{_cpu(s)}, SQL {s['sql_p50_ms']:.1f} ms ({x}x)"
        return (f"{text}, {s['queries']} q", ok)

    def admin(r: dict, s: dict):
        return (f"p95 {s['p95_ms']:.0f} ms", s["p95_ms"] <= ADMIN_MS)

    out = []
    for name, per_db in _by_scenario(res).items():
        if name.startswith("admin"):
            out.append(_row(name, f"p95 ≤ {ADMIN_MS} ms", _scenario_cells(per_db, admin)))
        else:
            budget = f"p95 ≤ {PAGE_P95_MS} ms, ≤ 3x SQL"
            out.append(_row(name, budget, _scenario_cells(per_db, page)))
    return out


def planner_rows(res: dict[str, dict | None]) -> list:
    """Planner pages (with how many candidate groups they chose from) and the dashboard."""
    out = []
    for name, per_db in _by_scenario(res).items():
        budget = DASHBOARD_MS if name == "dashboard" else PLANNER_MS

        def cell(r: dict, s: dict, name=name, budget=budget):
            pool = "" if name == "dashboard" else f", {r['pool']:,} groups"
            ok = s["p95_ms"] <= budget and (name == "dashboard" or r["pool"] >= PLANNER_POOL)
            return (f"p95 {s['p95_ms']:.0f} ms{_cpu(s)}{pool}, {s['queries']} q", ok)

        out.append(_row(name, f"p95 ≤ {budget} ms", _scenario_cells(per_db, cell)))
    refresh = _cells(res, lambda r: (f"{r['refresh_s']:.2f} s", None))
    return [*out, _row("dashboard refresh after a sync", "(measured)", refresh)]


def people_rows(res: dict[str, dict | None]) -> list:
    """The page under a requester rule and an ignore-users rule (issue 15's budget applies
    to the page with both rules; the other scenarios are reported for comparison)."""

    def cell(r: dict, s: dict):
        text = f"p95 {s['p95_ms']:.0f} ms{_cpu(s)}, {s['queries']} q"
        return (text, s["p95_ms"] <= PEOPLE_P95_MS)

    def recorded(r: dict):
        if "ignore_record_s" not in r:
            return ("—", None)
        return (f"{r['ignore_record_s']:.1f} s", r["ignore_record_s"] <= IGNORE_RECORD_S)

    return [
        _row(f"people: {name}", f"p95 ≤ {PEOPLE_P95_MS} ms", _scenario_cells(per_db, cell))
        for name, per_db in _by_scenario(res).items()
    ] + [
        _row(
            "people: a rule ignores an account (every item's numbers)",
            f"≤ {IGNORE_RECORD_S:.0f} s",
            _cells(res, recorded),
        )
    ]


def arr_rows(res: dict[str, dict | None]) -> list:
    """sync_arr per kind: a first sync against its floor, and a re-sync with no change."""
    out = []
    for kind, label in (("radarr", "movies"), ("sonarr", "series + episodes")):
        rows = next((r[kind]["rows"] for r in res.values() if r and kind in r), 0)
        first, again = {}, {}
        for db, r in res.items():
            f = (r or {}).get(kind)
            if not f:
                first[db] = again[db] = ("—", None)
                continue
            first[db] = (
                f"{f['sync_s']:.1f} s = {f['ratio']:.2f}x (floor {f['floor_s']:.1f} s, "
                f"{f['requests']} req)",
                f["ratio"] <= ARR_RATIO,
            )
            again[db] = (f"{f['resync_s']:.1f} s = {f['resync_s'] / f['floor_s']:.2f}x", None)
        out.append(_row(f"sync_arr {kind} ({rows:,} {label})", f"≤ {ARR_RATIO:.0f}x floor", first))
        out.append(_row(f"sync_arr {kind} re-sync, no change", "(measured)", again))
    return out


TABLES = {
    "plex": plex_rows,
    "tautulli": tautulli_rows,
    "candidates": candidates_rows,
    "planner": planner_rows,
    "people": people_rows,
    "arr": arr_rows,
}


def table_print(dbs: list[str], names: list[str]) -> None:
    """The rows of the benchmarks asked for (`--only`), never those of the others."""
    rows = []
    for name in names:
        results = {db: load(name, db) for db in dbs}
        if any(results.values()):
            rows += TABLES[name](results)
    mark = {True: "pass", False: "MISS", None: "n/a", "3x": "MISS 3x"}
    header = ["measurement", *(f"{'SQLite' if db == 'sqlite' else 'PostgreSQL'}" for db in dbs)]
    header += ["budget", *(f"{db[:2]}" for db in dbs)]
    lines = [
        [label, *(cells[db][0] for db in dbs), budget, *(mark[cells[db][1]] for db in dbs)]
        for label, cells, budget in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
    fmt = " | ".join(f"{{:{w}}}" for w in widths)
    print()
    print(fmt.format(*header))
    print("-+-".join("-" * w for w in widths))
    for line in lines:
        print(fmt.format(*line))
    misses = sum(1 for _, cells, _ in rows for db in dbs if cells[db][1] in (False, "3x"))
    print(f"\n{misses} budget miss(es); results in {RESULTS.relative_to(ROOT)}/")
    print("pages: wall p95 (CPU p50/p95 of the process, ms); (Nx) = page p50 / bare SQL p50;")
    print("q = queries per request")


def main() -> None:
    args = parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    names = args.only or ["plex", "tautulli", "candidates", "planner", "people", "arr"]
    RESULTS.mkdir(exist_ok=True)
    if not args.report:
        for db in dbs:
            run_database(db, names, args.small, args.page_requests)
    table_print(dbs, names)


if __name__ == "__main__":
    main()
