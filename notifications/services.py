"""Sending notifications: `notify()` records one message and a task delivers it.

`notify(event=…, title=…, body=…, key=…)` is the one entry point for every event (sync
failed, new candidates, leaving soon, executed, storage over the threshold). It never
raises: a notification must never break the sync or execution that sends it. Delivery
runs in a django-q2 task after commit; each target is tried `NOTIFY_ATTEMPTS` times,
failures are logged (masked URL) and kept on the target for the settings page.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import apprise
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from notifications.models import Notification, TargetState
from notifications.targets import Target, targets_get

logger = logging.getLogger(__name__)
MAX_BODY = 1900  # Discord's limit is 2,000 characters; titles go apart


@dataclass(frozen=True)
class Delivery:
    target: Target
    ok: bool
    error: str = ""


def notify(*, event: str, title: str, body: str, key: str | None = None) -> Notification | None:
    """Record a message and send it after commit; a repeated `key` sends nothing new."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                event=event, key=key, title=title[:250], body=body_fit(body)
            )
    except IntegrityError:
        return None  # already announced for this run
    except Exception:  # never let a notification break its caller
        logger.exception("Could not record a %s notification", event)
        return None
    pk = notification.pk
    transaction.on_commit(lambda: async_task("notifications.tasks.notification_send_task", pk))
    return notification


def body_fit(body: str, limit: int = MAX_BODY) -> str:
    """Cut at a line boundary, saying how much was left out."""
    if len(body) <= limit:
        return body
    lines, kept, size = body.splitlines(), [], 0
    for line in lines:
        if size + len(line) + 1 > limit - 40:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept) + f"\n… and {len(lines) - len(kept)} more lines"


def notification_send(*, notification: Notification) -> list[Delivery]:
    """Deliver to every target (retrying each), then record the outcome on the row."""
    targets = targets_get()
    if not targets:
        _record(notification, Notification.Status.NO_TARGET, [], "")
        return []
    deliveries = [_deliver(t, notification) for t in targets]
    ok = sum(d.ok for d in deliveries)
    status = (
        Notification.Status.SENT
        if ok == len(deliveries)
        else Notification.Status.PARTIAL
        if ok
        else Notification.Status.FAILED
    )
    errors = "\n".join(f"{d.target.label}: {d.error}" for d in deliveries if not d.ok)
    _record(notification, status, deliveries, errors)
    return deliveries


def notify_test() -> list[Delivery]:
    """Send a test message now (not as a task) and say how each target did."""
    notification = Notification.objects.create(
        event=Notification.Event.TEST,
        title="SmartPlex test message",
        body="If you can read this, **SmartPlex** can reach this target.",
    )
    return notification_send(notification=notification)


def _deliver(target: Target, notification: Notification) -> Delivery:
    error = ""
    for attempt in range(1, settings.NOTIFY_ATTEMPTS + 1):
        ok, error = _send_once(target, notification)
        if ok:
            _target_ok(target)
            return Delivery(target, True)
        logger.warning(
            "Notification #%s to %s failed (attempt %s of %s): %s",
            notification.pk, target.label, attempt, settings.NOTIFY_ATTEMPTS, error,
        )  # fmt: skip
        if attempt < settings.NOTIFY_ATTEMPTS:
            time.sleep(settings.NOTIFY_RETRY_SECONDS * attempt)
    _target_failed(target, error)
    return Delivery(target, False, error)


def _send_once(target: Target, notification: Notification) -> tuple[bool, str]:
    sender = apprise.Apprise()
    if not sender.add(target.url):
        return False, "not a valid Apprise URL"
    try:
        with apprise.LogCapture(level=apprise.logging.WARNING) as logs:
            ok = bool(
                sender.notify(
                    title=notification.title,
                    body=notification.body,
                    body_format=apprise.NotifyFormat.MARKDOWN,
                )
            )
            text = logs.getvalue()
    except Exception as exc:  # a plugin bug must not escape the task
        return False, f"{type(exc).__name__}: {exc}"
    return ok, "" if ok else _last_line(text) or "the target refused the message"


def _last_line(log_text: str) -> str:
    lines = [line.split(" - ", 2)[-1] for line in log_text.strip().splitlines()]
    return lines[-1][:300] if lines else ""


def _target_ok(target: Target) -> None:
    TargetState.objects.update_or_create(
        url_hash=target.url_hash,
        defaults={"label": target.label, "last_sent_at": timezone.now(), "failures": 0},
    )


def _target_failed(target: Target, error: str) -> None:
    state, _ = TargetState.objects.get_or_create(
        url_hash=target.url_hash, defaults={"label": target.label}
    )
    state.label, state.last_error, state.last_error_at = target.label, error, timezone.now()
    state.failures += 1
    state.save()


def _record(notification: Notification, status: str, deliveries: list, errors: str) -> None:
    Notification.objects.filter(pk=notification.pk).update(
        status=status,
        attempts=notification.attempts + 1,
        sent_at=timezone.now() if any(d.ok for d in deliveries) else None,
        error=errors,
    )
