"""Sent notifications (read-only: SmartPlex writes them) and each target's last outcome."""

from __future__ import annotations

from django.contrib import admin

from media.admin import ViewOnlyAdminMixin
from notifications.models import Notification, TargetState


@admin.register(Notification)
class NotificationAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event", "title", "status", "attempts", "sent_at"]
    list_filter = ["event", "status"]
    search_fields = ["title"]
    show_full_result_count = False


@admin.register(TargetState)
class TargetStateAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["label", "last_sent_at", "failures", "last_error_at", "last_error"]
