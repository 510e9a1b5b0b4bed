"""scripts/db_backup.py: a synced database, backed up and restored into a fresh one, holds
exactly the same rows (compared through `dumpdata`), on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings

from simulators.demo import DemoSize, demo_start
from tests.processes import ROOT, child_env, manage

pytestmark = pytest.mark.slow
SMALL = DemoSize(
    shows=3, seasons_per_show=2, episodes_per_season=3, movies=10, users=3, days=30, plays=120
)
DUMPED = ["media", "syncing", "deletion", "django_q.schedule", "auth.user"]


def _script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/db_backup.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _dump(env: dict[str, str]) -> str:
    result = manage("dumpdata", *DUMPED, "--indent=1", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _round_trip(tmp_path, source_url: str, target_url: str) -> None:
    """Fill the source through a real sync, back it up, restore it into the target."""
    demo = demo_start(size=SMALL, seed=5)
    try:
        source = child_env(SMARTPLEX_DATA_DIR=str(tmp_path), DATABASE_URL=source_url, **demo.env())
        for args in (("migrate", "--noinput"), ("sync_all",), ("storage_capacity", "1234")):
            result = manage(*args, env=source)
            assert result.returncode == 0, result.stdout + result.stderr
    finally:
        demo.stop()
    source = child_env(SMARTPLEX_DATA_DIR=str(tmp_path), DATABASE_URL=source_url)
    target = child_env(SMARTPLEX_DATA_DIR=str(tmp_path), DATABASE_URL=target_url)
    backup_file = tmp_path / "smartplex.backup"

    made = _script("backup", str(backup_file), env=source)
    assert made.returncode == 0, made.stderr
    assert _script("backup", str(backup_file), env=source).returncode == 1  # never overwrites
    restored = _script("restore", str(backup_file), env=target)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "media_items: 0 rows" not in restored.stdout
    assert _dump(target) == _dump(source)
    again = _script("restore", str(backup_file), env=target)
    assert again.returncode == 1
    assert "not empty" in again.stderr


def test_backup_and_restore_on_sqlite(tmp_path):
    _round_trip(
        tmp_path,
        f"sqlite:///{tmp_path / 'live.sqlite3'}",
        f"sqlite:///{tmp_path / 'restored.sqlite3'}",
    )


@pytest.fixture
def two_pg_databases():
    """Two empty databases beside the test database (PostgreSQL phase only)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres", "pgsql", "psql")):
        pytest.skip("PostgreSQL phase only")
    db = settings.DATABASES["default"]
    names = [f"smartplex_bk_{secrets.token_hex(4)}_{side}" for side in ("src", "dst")]
    admin = {"host": db["HOST"], "user": db["USER"], "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**admin) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    yield [urlunsplit(parts._replace(path=f"/{name}")) for name in names]
    with psycopg.connect(**admin) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_and_restore_on_postgresql(tmp_path, two_pg_databases):
    _round_trip(tmp_path, *two_pg_databases)


def test_restore_of_a_missing_file_says_so(tmp_path):
    env = child_env(
        SMARTPLEX_DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}"
    )
    result = _script("restore", str(tmp_path / "nope.backup"), env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == f"restore failed: {tmp_path / 'nope.backup'} is not a file"
