"""`manage.py demo_simulators`: serve the demo Plex + Tautulli until stopped (used by
`make run` when no PLEX_URL is set)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from django.core.management.base import BaseCommand

from syncing.simulators.demo import DemoSize, demo_start


class Command(BaseCommand):
    help = "Start the bundled Plex and Tautulli simulators with a generated demo library."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--env-file", help="Write PLEX_URL/TOKEN, TAUTULLI_URL/API_KEY here.")
        for name, default in vars(DemoSize()).items():
            env_default = int(os.environ.get(f"DEMO_{name.upper()}", default))
            parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=env_default)

    def handle(self, *args, env_file: str | None, **options) -> None:
        size = DemoSize(**{k: options[k] for k in vars(DemoSize())})
        demo = demo_start(size=size)
        env = demo.env()
        self.stdout.write(
            f"Demo Plex at {env['PLEX_URL']} ({size.shows} shows, {size.movies} movies); "
            f"demo Tautulli at {env['TAUTULLI_URL']} ({size.plays} plays by {size.users} users)."
        )
        if env_file:
            # Written last and atomically: the run script waits for this file.
            tmp = Path(f"{env_file}.tmp")
            tmp.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
            tmp.chmod(0o600)
            tmp.replace(env_file)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
        demo.stop()
