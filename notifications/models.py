"""Outgoing notifications (one row per message) and the delivery state of each target.

Targets are Apprise URLs; they hold secrets (webhook tokens), so only their hash and
Apprise's privacy form (tokens masked) are stored here and shown anywhere.
"""

from __future__ import annotations

from django.db import models

from media.models import LogModel


class Notification(LogModel):
    """One message about one event of one run (never one per item)."""

    class Event(models.TextChoices):
        SYNC_FAILED = "sync_failed", "Sync failed"  # one per failed run
        NEW_CANDIDATES = "new_candidates", "New candidates"  # after a sync: count, biggest
        LEAVING_SOON = "leaving_soon", "Leaving soon"  # groups just approved, their leave date
        EXECUTED = "executed", "Deletions executed"  # one summary per execution run
        STORAGE = "storage", "Storage over the threshold"  # with a plan down to the target
        TEST = "test", "Test message"  # notify_test and the settings page's button

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # written, not delivered yet
        SENT = "sent", "Sent"  # to every target
        PARTIAL = "partial", "Sent to some targets"
        FAILED = "failed", "Failed"  # no target took it
        NO_TARGET = "no_target", "No target configured"

    event = models.CharField(max_length=20, choices=Event.choices)
    # "one message per event per run": a second notify() with the same key adds nothing.
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    title = models.CharField(max_length=250)
    body = models.TextField(help_text="Markdown")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Last error of each failing target")

    class Meta(LogModel.Meta):
        permissions = [("manage_notifications", "Can change notification targets and test them")]

    def __str__(self) -> str:
        return f"{self.get_event_display()}: {self.title}"


class TargetState(models.Model):
    """How the last deliveries to one target went (shown on the settings page)."""

    url_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=500, help_text="The URL with its secrets masked")
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="In a row")

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label

    @property
    def ok(self) -> bool:
        return self.failures == 0
