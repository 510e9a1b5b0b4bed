"""The one base class of every client's exception, so the run skeleton can tell an outside
system's failure (a one-line reason for the admin) from a bug in SmartPlex (a traceback)."""

from __future__ import annotations

import re

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")


class ClientError(Exception):
    """An outside system failed or answered something unusable; the message is one line."""


SECRET_MASK = "********"


def mask_secret(text: str, secret: str) -> str:
    """Replace an API key or token wherever it appears in `text` (errors, URLs)."""
    return text.replace(secret, SECRET_MASK) if secret else text


def redact(text: str) -> str:
    """Mask credentials embedded in URLs (`http://user:pass@host` → `http://***@host`)."""
    return _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)
