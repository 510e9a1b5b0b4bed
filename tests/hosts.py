"""Several "hosts" on one machine: SmartPlex's worker and web processes started as separate
process groups against one PostgreSQL database and one Redis, as on several machines.

`Hosts(env, tmp_path)`:
- `worker(name, scheduler=True)`: `manage.py qcluster` (one worker process; with
  `scheduler=False` it gets Q_SCHEDULER=0); returns once django-q2 says it is running.
- `web(name)`: gunicorn on a free loopback port; returns its base URL once it answers.
- `kill(name)` SIGKILLs the whole process group (the worker and its pool, mid-task);
  `pause(name)` / `resume(name)` SIGSTOP / SIGCONT it; `log(name)` is its output so far.
- `shell(code)` runs Python in a one-off `manage.py shell` of the same environment.
- `stop_all()` ends every process still running (TERM, then KILL after 15 s).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.processes import ROOT, manage

GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    """Poll `condition` until it is true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Hosts:
    def __init__(self, env: dict[str, str], tmp_path: Path):
        self.env = env
        self.tmp_path = tmp_path
        self.procs: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, argv: list[str], **extra_env: str) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("w")
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill/pause reach its pool
        )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text()

    def worker(self, name: str, *, scheduler: bool = True) -> None:
        extra = {} if scheduler else {"Q_SCHEDULER": "0"}
        proc = self._start(name, [sys.executable, "manage.py", "qcluster"], **extra)
        wait_for(
            lambda: proc.poll() is not None or "running." in self.log(name),
            timeout=60,
            what=f"worker {name} to start",
        )
        assert proc.poll() is None, self.log(name)

    def web(self, name: str) -> str:
        port = free_port()
        argv = [GUNICORN, "smartplex.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
        proc = self._start(name, argv)
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: proc.poll() is not None or _answers(url), timeout=60, what=name)
        assert proc.poll() is None, self.log(name)
        return url

    def _signal_group(self, name: str, sig: int) -> None:
        os.killpg(self.procs[name].pid, sig)

    def kill(self, name: str) -> None:
        self._signal_group(name, signal.SIGKILL)
        self.procs.pop(name).wait(timeout=15)

    def pause(self, name: str) -> None:
        self._signal_group(name, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self._signal_group(name, signal.SIGCONT)

    def shell(self, code: str) -> str:
        result = manage("shell", "-c", code, env=self.env, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGCONT)
                proc.terminate()  # django-q2 and gunicorn stop cleanly on one TERM
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            if proc.poll() is None or _group_alive(proc.pid):
                _kill_group(proc.pid)
        self.procs.clear()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/admin/login/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
