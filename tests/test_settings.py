"""Settings come from the environment and pass Django's deployment checks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    base.update({"SMARTPLEX_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_values(tmp_path):
    env = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DEBUG": "0",
        "SECURE_SSL": "1",
        "ALLOWED_HOSTS": "smartplex.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://smartplex.example.com",
    }
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_is_generated_once_into_the_data_folder(tmp_path):
    env = {"SECRET_KEY": ""}
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = _manage("shell", "-c", code, env=env, tmp_path=tmp_path)
    second = _manage("shell", "-c", code, env=env, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    key = key_file.read_text().strip()
    assert len(key) >= 50
    assert first.stdout.strip().splitlines()[-1] == second.stdout.strip().splitlines()[-1] == key


def test_bad_sync_interval_fails_early(tmp_path):
    result = _manage("check", env={"SYNC_INTERVAL_HOURS": "0"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SYNC_INTERVAL_HOURS" in result.stderr
