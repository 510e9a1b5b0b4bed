"""Where notifications go: Apprise URLs from the settings page plus `NOTIFY_URLS`.

The URLs are secrets. Pages and logs only ever see `target_label()` (Apprise's privacy
form: tokens and passwords masked).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import apprise
from django.conf import settings

from media.services import config_get, config_set
from notifications.models import TargetState

NOTIFY_URLS_KEY = "notify_urls"


@dataclass(frozen=True)
class Target:
    url: str
    source: str  # "settings" | "environment"

    @property
    def url_hash(self) -> str:
        return hashlib.sha256(self.url.encode()).hexdigest()

    @property
    def label(self) -> str:
        return target_label(self.url)


def urls_split(text: str) -> list[str]:
    """One per line on the page; spaces or commas in `NOTIFY_URLS`."""
    return list(dict.fromkeys(u for u in re.split(r"[\s,]+", text or "") if u))


def target_label(url: str) -> str:
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return f"{url.split('://')[0]}:// (not a valid Apprise URL)"
    return plugin.url(privacy=True).split("?")[0]


def url_problem(url: str) -> str:
    """Why Apprise cannot use this URL ("" when it can); never repeats the URL itself."""
    if "://" not in url:
        return "is not a URL (expected scheme://…)"
    if apprise.Apprise.instantiate(url) is None:
        return f"“{url.split('://')[0]}://” is not a notification service Apprise knows"
    return ""


def notify_urls_get() -> list[str]:
    """The URLs stored from the settings page."""
    return list(config_get(NOTIFY_URLS_KEY) or [])


def notify_urls_set(*, urls: list[str]) -> None:
    config_set(NOTIFY_URLS_KEY, list(dict.fromkeys(urls)))


def targets_get() -> list[Target]:
    targets = [Target(u, "settings") for u in notify_urls_get()]
    seen = {t.url for t in targets}
    env = [Target(u, "environment") for u in urls_split(settings.NOTIFY_URLS) if u not in seen]
    return targets + env


def target_states_get() -> list[tuple[Target, TargetState | None]]:
    """Each configured target with how its last deliveries went (for the settings page)."""
    targets = targets_get()
    states = TargetState.objects.in_bulk([t.url_hash for t in targets], field_name="url_hash")
    return [(t, states.get(t.url_hash)) for t in targets]
