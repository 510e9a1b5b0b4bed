"""The README's run command, started as a new user would, serves the admin login page."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"run command exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def start_app(tmp_path: Path, **env: str) -> tuple[subprocess.Popen, int, Path]:
    port = _free_port()
    log = tmp_path / "run.log"
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PLEX_URL", "TAUTULLI_URL")
    }
    full_env.update(
        {"PORT": str(port), "SMARTPLEX_DATA_DIR": str(tmp_path / "data"), "Q_WORKERS": "1", **env}
    )
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=full_env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, port, log


def stop_app(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


def test_run_command_serves_the_login_page(tmp_path):
    proc, port, log = start_app(
        tmp_path,
        PLEX_URL="http://127.0.0.1:9",
        PLEX_TOKEN="not-a-real-token",
        SMARTPLEX_ADMIN_PASSWORD="first-admin-pw",
    )
    try:
        body = _wait_for(f"http://127.0.0.1:{port}/admin/login/", proc, timeout=120)
        assert "SmartPlex" in body and 'name="csrfmiddlewaretoken"' in body
        assert "/static/" in body  # served by WhiteNoise, no separate web server
    finally:
        stop_app(proc)
    output = log.read_text()
    assert "not-a-real-token" not in output
    assert "Created admin user 'admin'" in output
