"""Tautulli's notification agent → a small stats sync for one item."""

from __future__ import annotations

import json
import secrets

from django.db import transaction
from django_q.tasks import async_task

from media.services import config_get, config_set
from syncing.models import TautulliServer

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
    """Queue a one-item history sync on every enabled Tautulli server; returns how many."""
    ids = list(TautulliServer.objects.filter(enabled=True).values_list("pk", flat=True))
    for tautulli_id in ids:
        transaction.on_commit(
            lambda t=tautulli_id: async_task("syncing.tasks.tautulli_item_sync_task", t, rating_key)
        )
    return len(ids)
