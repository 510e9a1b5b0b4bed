"""Tautulli's notification agent → a small stats sync for one item."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets

from media.inputs import int_in_range
from media.services import config_get, config_set
from syncing.models import SyncRun
from syncing.runs import SyncAlreadyRunning, run_queue, runs_enqueue
from syncing.selectors import tautulli_servers_for_sync

logger = logging.getLogger(__name__)

WEBHOOK_SECRET_KEY = "tautulli_webhook_secret"
MIN_SECRET_LENGTH = 16


class WebhookPayloadError(ValueError):
    """The body is not JSON with a numeric `rating_key` (Plex's ratingKey)."""


def webhook_secret_get() -> str:
    """The per-install secret, generated on first use (and when the stored one is unusable)."""
    value = config_get(WEBHOOK_SECRET_KEY)
    secret = value.get("secret") if isinstance(value, dict) else None
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        if value is not None:
            logger.warning(
                "system_config %s is unusable; a new secret is generated", WEBHOOK_SECRET_KEY
            )
        secret = secrets.token_urlsafe(32)
        config_set(WEBHOOK_SECRET_KEY, {"secret": secret})
    return secret


def webhook_secret_rotate() -> str:
    config_set(WEBHOOK_SECRET_KEY, {"secret": secrets.token_urlsafe(32)})
    return webhook_secret_get()


def webhook_secret_matches(candidate: str | None) -> bool:
    """Constant-time comparison of bytes (a header may hold any character)."""
    if not candidate:
        return False
    expected = webhook_secret_get().encode()
    return secrets.compare_digest(candidate.encode("utf-8", "surrogateescape"), expected)


def webhook_payload_parse(body: bytes) -> int:
    """The rating key of the item Tautulli notified about."""
    expected = 'Expected a JSON body like {"rating_key": "{rating_key}"} with a numeric rating key.'
    try:
        data = json.loads(body.decode("utf-8"))
        raw = data["rating_key"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
        raise WebhookPayloadError(expected) from None
    plex_id = int_in_range(raw, minimum=1) if isinstance(raw, str | int) else None
    if plex_id is None:
        raise WebhookPayloadError(
            f"rating_key must be a number (Plex's ratingKey), not {str(raw)[:40]!r}."
        )
    return plex_id


def webhook_item_sync_enqueue(*, plex_id: int) -> int:
    """Queue a one-item history run on every Tautulli server that syncs; returns how many.

    An item already queued on a server is not queued twice (the run's lock covers it).
    """
    queued = []
    for tautulli in tautulli_servers_for_sync():
        with contextlib.suppress(SyncAlreadyRunning):
            queued.append(
                run_queue(
                    kind=SyncRun.Kind.TAUTULLI_ITEM,
                    target=tautulli,
                    trigger="webhook",
                    inputs={"plex_id": plex_id},
                )
            )
    runs_enqueue(queued)
    return len(queued)
