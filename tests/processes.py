"""Start SmartPlex's own commands as separate processes, as another host would run them.

- `manage(*args, env=…)`: run a management command to completion (CompletedProcess).
- `child_env(**extra)`: this test run's environment for a child, minus pytest's settings
  module and the connection variables, plus `extra`.
- `redis_url()`: the throwaway Redis of `scripts/test.sh` (TEST_REDIS_URL); skips when it is
  absent, and fails instead when SMARTPLEX_REQUIRE_REDIS=1 (the test command sets it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_DROPPED = (
    "DJANGO_SETTINGS_MODULE",
    "PLEX_URL",
    "PLEX_TOKEN",
    "TAUTULLI_URL",
    "TAUTULLI_API_KEY",
    "REDIS_URL",
    "CACHE_BACKEND",
)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("SMARTPLEX_REQUIRE_REDIS") == "1":
            pytest.fail("TEST_REDIS_URL is not set: scripts/test.sh starts Redis for this test")
        pytest.skip("no Redis: run through scripts/test.sh (it starts one)")
    return url
