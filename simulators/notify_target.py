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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEEP = 200


class NotifyReceiver:
    def __init__(self, *, echo: bool = False):
        self.echo = echo  # print each message (the demo's log)
        self.messages: list[dict] = []
        self.fail_status: int | None = None  # answer this status instead of 200
        self.attempts = 0  # POSTs received, failed ones included
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> NotifyReceiver:
        handler = type("NotifyHandler", (_Handler,), {"target": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> NotifyReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "receiver not started"
        return self._httpd.server_address[1]

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


class _Handler(BaseHTTPRequestHandler):
    target: NotifyReceiver
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._reply(self.target.receive(self.rfile.read(length) if length else b""))

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/inbox":
            self._reply(404)
            return
        self._reply(200, json.dumps(self.target.messages).encode())

    def log_message(self, format, *args) -> None:
        pass
