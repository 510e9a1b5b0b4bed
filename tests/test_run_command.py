"""The README's run command, started as a new user would, serves the admin login page."""

from __future__ import annotations

import contextlib
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


def _login_opener(base: str, username: str, password: str):
    import http.cookiejar
    import re
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/admin/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": password,
            "next": "/admin/",
        }
    ).encode()
    request = urllib.request.Request(f"{base}/admin/login/", data=data, headers={"Referer": base})
    opener.open(request, timeout=10)
    return opener


def test_demo_mode_serves_a_populated_library(tmp_path):
    """No PLEX_URL: the run command starts the simulators, syncs, and the admin shows it."""
    proc, port, log = start_app(
        tmp_path,
        SMARTPLEX_ADMIN_PASSWORD="demo-admin-pw",
        DEMO_SHOWS="8",
        DEMO_MOVIES="40",
        DEMO_PLAYS="500",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/admin/login/", proc, timeout=120)
        opener = _login_opener(base, "admin", "demo-admin-pw")
        items = opener.open(f"{base}/admin/media/mediaitem/?type__exact=show", timeout=10).read()
        body = items.decode()
        assert "sync-badge" in body and 'data-kind="plex" data-state="fresh"' in body
        assert body.count('class="field-title"') >= 8  # the demo's shows are listed
    finally:
        stop_app(proc)
    output = log.read_text()
    assert "Plex library · Plex (from environment): success" in output
    assert "Tautulli history · Tautulli (from environment): success" in output


def _processes_of(data_dir: Path) -> list[int]:
    """Every process started for this app (they all carry its data folder in their env)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(data_dir).encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _gone_within(data_dir: Path, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _processes_of(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_stopping_the_group_stops_the_detached_worker_and_simulators(tmp_path, sig):
    """The worker and the demo simulators run in their own session; a TERM (or even a
    KILL) to the run command's process group must still stop them."""
    proc, port, _ = start_app(
        tmp_path, SMARTPLEX_ADMIN_PASSWORD="demo-admin-pw", DEMO_SHOWS="2", DEMO_MOVIES="5"
    )
    data_dir = tmp_path / "data"
    try:
        _wait_for(f"http://127.0.0.1:{port}/admin/login/", proc, timeout=180)
        assert len(_processes_of(data_dir)) >= 4  # make, run.sh, simulators, worker, web
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)
        left = _gone_within(data_dir, 40)
        assert left == [], [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left]
    finally:
        for pid in _processes_of(data_dir):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
