#!/usr/bin/env python
"""Back up SmartPlex's database to one file, or restore such a file into a fresh database.

    .venv/bin/python scripts/db_backup.py backup  FILE   # the database of DATABASE_URL
    .venv/bin/python scripts/db_backup.py restore FILE   # into DATABASE_URL, which must be empty

SQLite: SQLite's online backup API (consistent while the app runs; WAL included).
PostgreSQL: `pg_dump --format=custom` (one consistent snapshot) and `pg_restore`.
After a restore it runs the checks: Django's system checks, "no migration unapplied", and a
row count per table, so a restore that did not take is seen at once. Exits non-zero with a
one-line reason on any failure; the database password never reaches the command line.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartplex.settings")


class BackupError(Exception):
    """A backup or restore step failed; the message is the one line shown."""


def _database() -> dict:
    from django.db import connection

    return connection.settings_dict


def _pg_env(db: dict) -> dict[str, str]:
    """libpq's own variables, so no secret is on the command line (ps shows it)."""
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if db.get(key):
            env[var] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    env["PGDATABASE"] = db["NAME"]
    return env


def _pg_tool(name: str, *args: str, db: dict) -> None:
    result = subprocess.run([name, *args], env=_pg_env(db), capture_output=True, text=True)
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise BackupError(f"{name} failed: {first}")


def backup(out: Path) -> None:
    """Write a consistent copy of the live database to `out` (never overwrites)."""
    if out.exists():
        raise BackupError(f"{out} already exists; choose a new file name")
    db = _database()
    if db["ENGINE"].endswith("sqlite3"):
        source = sqlite3.connect(f"file:{db['NAME']}?mode=ro", uri=True)
        target = sqlite3.connect(out)
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        _pg_tool("pg_dump", "--format=custom", "--no-owner", f"--file={out}", db=db)
    print(f"Backed up {db['ENGINE'].rsplit('.', 1)[1]} database to {out}")


def restore(src: Path) -> None:
    """Load `src` into the configured database, which must hold no tables yet."""
    from django.db import connection

    if not src.is_file():
        raise BackupError(f"{src} is not a file")
    if connection.introspection.table_names():
        raise BackupError("the target database is not empty; restore into a fresh one")
    db = _database()
    connection.close()
    if db["ENGINE"].endswith("sqlite3"):
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        target = sqlite3.connect(db["NAME"])
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        restore_args = (
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={db['NAME']}",
        )
        _pg_tool("pg_restore", *restore_args, str(src), db=db)
        _pg_tool("psql", "--quiet", "--command=ANALYZE", db=db)
    print(f"Restored {src}")
    verify()


def verify() -> None:
    """The checks after a restore: system checks, migrations, and what the tables hold."""
    from django.apps import apps
    from django.core.management import call_command

    call_command("check")
    try:
        call_command("migrate", check=True, plan=True, verbosity=0)
    except SystemExit as exc:
        raise BackupError(
            "the backup predates this version: run `manage.py migrate`, then restart"
        ) from exc
    for label in ("media", "syncing", "deletion", "django_q"):
        for model in apps.get_app_config(label).get_models():
            print(f"  {model._meta.db_table}: {model._default_manager.count()} rows")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("backup", "restore"):
        print("\n".join(__doc__.strip().splitlines()[2:4]), file=sys.stderr)
        return 2
    import django

    django.setup()
    try:
        (backup if argv[0] == "backup" else restore)(Path(argv[1]).resolve())
    except BackupError as exc:
        print(f"{argv[0]} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
