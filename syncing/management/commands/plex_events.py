"""`manage.py plex_events [--server NAME]`: follow Plex's notifications until Ctrl-C."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import CommandError

from media.models import PlexServer
from syncing.management.base import ConnectionsCommand
from syncing.services.plex_events import EventBatcher
from syncing.services.plex_listener import PlexEventListener
from syncing.services.plex_refresh import plex_events_apply


class Command(ConnectionsCommand):
    help = (
        "Listen to Plex's notifications (every enabled server, or --server NAME) and refresh "
        "the items they name within seconds. Runs until Ctrl-C or SIGTERM."
    )

    kind, model, system, env = "plex", PlexServer, "Plex", ("PLEX_URL", "PLEX_TOKEN")

    def add_options(self, parser) -> None:
        parser.add_argument(
            "--quiet",
            type=float,
            default=1.0,
            help="Apply a batch once events have paused this many seconds (default 1)",
        )
        parser.add_argument(
            "--max-wait",
            type=float,
            default=3.0,
            help="...or once the oldest waiting event is this many seconds old (default 3)",
        )
        parser.add_argument(
            "--stop-after", type=float, default=None, help="Stop after this many seconds"
        )

    def handle(self, *args, server=None, quiet=1.0, max_wait=3.0, stop_after=None, **options):
        servers = self.targets(server)
        if quiet < 0 or max_wait <= 0:
            raise CommandError("--quiet must be >= 0 and --max-wait > 0 seconds.")
        stop = threading.Event()
        listeners = [
            PlexEventListener(
                s, plex_events_apply, batcher=EventBatcher(quiet=quiet, max_wait=max_wait)
            )
            for s in servers
        ]
        # The first server is followed in this thread (Ctrl-C lands here), any others in
        # their own threads.
        others = [threading.Thread(target=x.run, args=(stop,)) for x in listeners[1:]]
        timer = threading.Timer(stop_after, stop.set) if stop_after else None
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write(f"Listening to {', '.join(s.name for s in servers)} (Ctrl-C stops).")
        try:
            for thread in [*others, *([timer] if timer else [])]:
                thread.start()
            listeners[0].run(stop)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            if timer:
                timer.cancel()
            for thread in others:
                thread.join()
            signal.signal(signal.SIGTERM, previous)
        self.stdout.write("Stopped listening to Plex.")
