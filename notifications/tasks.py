"""django-q2 task: load the notification, deliver it (fired after commit by notify())."""

from __future__ import annotations

import logging

from notifications.models import Notification
from notifications.services import notification_send

logger = logging.getLogger(__name__)


def notification_send_task(notification_id: int) -> str:
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return "gone"
    try:
        notification_send(notification=notification)
    except Exception:  # recorded in the log; a notification never fails its caller's run
        logger.exception("Sending notification #%s crashed", notification_id)
        return "crashed"
    notification.refresh_from_db()
    return notification.status
