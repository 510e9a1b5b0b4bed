"""A notification target: receives what Apprise's `json://` plugin posts, on 127.0.0.1.

Used by the tests (one message per run? which titles? a target answering 500) and by the
demo, whose messages are listed in the admin's "Demo inbox" (`GET /inbox` answers the
last messages as JSON) and printed to the log.

    with NotifyReceiver() as target:
        notify_urls_set(urls=[target.apprise_url])
        ...
        target.messages  # [{"title": …, "message": …, "type": …, "received_at": …}]
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from simulators.base import SimulatorHandler, SimulatorServer

KEEP = 200


class _Handler(SimulatorHandler):
    sim: NotifyReceiver

    def do_POST(self) -> None:
        self.answer(self.sim.receive(self.read_body()), content_type="application/json")

    def do_GET(self) -> None:
        if self.split_url()[0] != "/inbox":
            self.answer(404, content_type="application/json")
            return
        self.answer(200, self.sim.messages, "application/json")


class NotifyReceiver(SimulatorServer):
    """Stores the messages posted to it (see the module docstring)."""

    handler_class = _Handler

    def __init__(self, *, echo: bool = False):
        self.echo = echo  # print each message (the demo's log)
        self.messages: list[dict] = []
        self.fail_status: int | None = None  # answer this status instead of 200
        self.attempts = 0  # POSTs received, failed ones included
        self._lock = threading.Lock()

    @property
    def apprise_url(self) -> str:
        return f"json://127.0.0.1:{self.port}/inbox"

    @property
    def inbox_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/inbox"

    def receive(self, body: bytes) -> int:
        with self._lock:
            self.attempts += 1
            if self.fail_status:
                return self.fail_status
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                return 400
            message = {
                "title": str(data.get("title", "")),
                "message": str(data.get("message", "")),
                "type": str(data.get("type", "")),
                "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            self.messages = [*self.messages, message][-KEEP:]
        if self.echo:
            print(f"[demo notification] {message['title']}\n{message['message']}", flush=True)
        return 200
