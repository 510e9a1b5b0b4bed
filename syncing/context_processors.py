"""Puts the "last synced" badge into every template (admin and SmartPlex pages)."""

from __future__ import annotations

from django.http import HttpRequest


def sync_badge(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    from syncing.selectors import sync_badge_get

    return {"sync_badge": sync_badge_get(), "can_sync_now": user.has_perm("syncing.run_sync")}
