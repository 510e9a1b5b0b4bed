"""Tautulli's notification agent → a small stats sync for one item."""

from __future__ import annotations

import contextlib
import json
import secrets

from media.services import config_get, config_set
from syncing.models import SyncRun
from syncing.runs import SyncAlreadyRunning, run_queue, runs_enqueue
from syncing.selectors import tautulli_servers_for_sync

WEBHOOK_SECRET_KEY = "tautulli_webhook_secret"


class WebhookPayloadError(ValueError):
    """The body is not JSON with a numeric `rating_key`."""


def webhook_secret_get() -> str:
    """The per-install secret, generated on first use."""
    value = config_get(WEBHOOK_SECRET_KEY) or {}
    if not value.get("secret"):
        value = {"secret": secrets.token_urlsafe(32)}
        config_set(WEBHOOK_SECRET_KEY, value)
    return value["secret"]


def webhook_secret_rotate() -> str:
    config_set(WEBHOOK_SECRET_KEY, {"secret": secrets.token_urlsafe(32)})
    return webhook_secret_get()


def webhook_secret_matches(candidate: str | None) -> bool:
    return bool(candidate) and secrets.compare_digest(candidate, webhook_secret_get())


def webhook_payload_parse(body: bytes) -> int:
    """The rating key of the item Tautulli notified about."""
    try:
        data = json.loads(body.decode("utf-8"))
        rating_key = int(str(data["rating_key"]).strip())
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise WebhookPayloadError(
            'Expected a JSON body like {"rating_key": "{rating_key}"}.'
        ) from exc
    if rating_key <= 0:
        raise WebhookPayloadError("rating_key must be a positive integer.")
    return rating_key


def webhook_item_sync_enqueue(*, rating_key: int) -> int:
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
                    inputs={"rating_key": rating_key},
                )
            )
    runs_enqueue(queued)
    return len(queued)
