"""What every simulator's HTTP side shares (standard library only, no Django).

`SimulatorServer` owns the lifecycle: a `ThreadingHTTPServer` on 127.0.0.1 (a free port the
first time, the same port after a stop, so `restart()` looks like the real server coming
back), the context manager and `url`. `SimulatorHandler` is the small request handler base:
HTTP/1.1 keep-alive without Nagle stalls, the body and the query read once, one way to
answer (JSON-encoding dicts and lists), a client that hung up is no error, and no log noise.
`take_fault` is the one rule for consuming an injected fault that carries a `count`.
Each simulator keeps its own wire format: routes, authentication and error bodies.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

F = TypeVar("F")


class SimulatorHandler(BaseHTTPRequestHandler):
    """Base request handler; `sim` is the simulator serving it (set by `SimulatorServer`)."""

    sim: Any
    protocol_version = "HTTP/1.1"  # keep-alive, as the real servers; clients reuse connections
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stalls

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def split_url(self) -> tuple[str, dict[str, str]]:
        """The path and the query (the last value of each parameter, blanks kept)."""
        parts = urlsplit(self.path)
        return parts.path, last_values(parts.query)

    def answer(
        self,
        status: int,
        payload: Any = b"",
        content_type: str = "application/json; charset=utf-8",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Send one response: bytes as they are, anything else as JSON; no body, no type."""
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)  # a client that gave up (timeout test) is no error

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


class SimulatorServer:
    """Serves `handler_class` for this simulator on 127.0.0.1; use as a context manager."""

    handler_class: type[SimulatorHandler] = SimulatorHandler
    _httpd: ThreadingHTTPServer | None = None
    _port: int = 0

    def start(self) -> Self:
        """Listen on a free port, or on the same port again after a stop (a restart)."""
        handler = type(type(self).__name__ + "Handler", (self.handler_class,), {"sim": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        httpd.daemon_threads = True
        self._httpd, self._port = httpd, httpd.server_address[1]
        threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Shut down: later requests get "connection refused" (the server is down)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "simulator not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def last_values(query: str) -> dict[str, str]:
    """A query string (or a form body) as a dict: the last value of each name, blanks kept."""
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


def take_fault(faults: list[F], lock: Any, matches: Callable[[F], bool]) -> F | None:
    """The first fault with uses left (`count`: None = forever) that `matches`; uses one."""
    with lock:
        for fault in faults:
            if fault.count != 0 and matches(fault):  # type: ignore[attr-defined]
                if fault.count is not None:  # type: ignore[attr-defined]
                    fault.count -= 1  # type: ignore[attr-defined]
                return fault
    return None
