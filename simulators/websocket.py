"""A minimal RFC 6455 websocket server side for the simulators (stdlib only).

Enough for a notification stream: the opening handshake, unmasked text frames from the
server, reading the client's masked frames (close is answered, ping gets a pong, the
rest is ignored). No extensions, no fragmentation on send (Plex sends none either).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import struct
import threading
from typing import BinaryIO

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def accept_key(client_key: str) -> str:
    """The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`."""
    digest = hashlib.sha1((client_key.strip() + _GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_frame(payload: bytes, opcode: int = TEXT) -> bytes:
    """One final, unmasked frame (servers never mask)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(stream: BinaryIO) -> tuple[int, bytes] | None:
    """(opcode, unmasked payload) of the client's next frame; None when the peer is gone."""
    try:
        head = _read_exact(stream, 2)
        if head is None:
            return None
        opcode, size = head[0] & 0x0F, head[1] & 0x7F
        if size == 126:
            size = struct.unpack("!H", _read_exact(stream, 2) or b"\0\0")[0]
        elif size == 127:
            size = struct.unpack("!Q", _read_exact(stream, 8) or b"\0" * 8)[0]
        mask = _read_exact(stream, 4) if head[1] & 0x80 else b"\0\0\0\0"
        payload = _read_exact(stream, size) if size else b""
        if mask is None or payload is None:
            return None
    except (OSError, ValueError):
        return None
    return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class WebSocketPeer:
    """One connected client: thread-safe sends, and a way to cut it off."""

    def __init__(self, sock: socket.socket, wfile: BinaryIO):
        self._sock = sock
        self._wfile = wfile
        self._lock = threading.Lock()
        self.open = True

    def send(self, payload: bytes, opcode: int = TEXT) -> bool:
        """Send one frame; False (and closed) if the peer has gone."""
        with self._lock:
            if not self.open:
                return False
            try:
                self._wfile.write(encode_frame(payload, opcode))
                self._wfile.flush()
            except OSError:
                self.open = False
        return self.open

    def send_text(self, text: str) -> bool:
        return self.send(text.encode("utf-8"))

    def close(self) -> None:
        """Close frame, then cut the TCP connection (what a server restart looks like)."""
        self.send(struct.pack("!H", 1001), CLOSE)
        with self._lock:
            self.open = False
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def serve(self, rfile: BinaryIO) -> None:
        """Read the client's frames until it closes or goes away."""
        while self.open:
            frame = read_frame(rfile)
            if frame is None:
                break
            opcode, payload = frame
            if opcode == CLOSE:
                self.send(payload[:2], CLOSE)
                break
            if opcode == PING:
                self.send(payload, PONG)
        self.open = False
