"""The storage threshold: off by default, announced once per crossing, never approving."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from dashboard.models import StorageSnapshot
from dashboard.threshold import (
    threshold_check,
    threshold_settings_get,
    threshold_settings_set,
    threshold_state_get,
)
from deletion.models import DeletionRequest
from media.formatting import GB
from media.services import storage_capacity_set
from notifications.models import Notification
from tests import factories
from tests.deletion_fixtures import days_ago, history_synced

pytestmark = pytest.mark.django_db
OLD = {"added_at": days_ago(300), "last_watched_at": days_ago(200)}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def disk(plex_server):
    """10 GB of capacity, 9 GB used by three idle movies."""
    history_synced(plex_server)
    storage_capacity_set(total_gb=10)
    for gb in (5, 3, 1):
        factories.item(server=plex_server, title=f"Movie {gb}", file_size_bytes=gb * GB, **OLD)


def _at(percent: float) -> StorageSnapshot:
    return StorageSnapshot(used_bytes=int(percent / 10 * GB), capacity_bytes=10 * GB)


def _announcements() -> list[Notification]:
    return list(Notification.objects.filter(event=Notification.Event.STORAGE))


def test_off_by_default(disk):
    assert threshold_settings_get().enabled is False
    assert threshold_check(snapshot=_at(99)).over is False
    assert _announcements() == []


def test_announces_once_per_crossing(disk):
    threshold_settings_set(enabled=True, over_percent=85, target_percent=50)
    state = threshold_check(snapshot=_at(90))
    assert state.over and len(_announcements()) == 1
    assert state.plan["groups"] == 1 and state.plan["freed"] == 5 * GB  # 90 % → 40 %
    message = _announcements()[0]
    assert "Storage at 90 %" in message.title
    assert "1 group frees 5.0 GB" in message.body and "**Movie 5**" in message.body
    threshold_check(snapshot=_at(91))
    threshold_check(snapshot=_at(95))
    assert len(_announcements()) == 1  # still over: the plan is refreshed, not re-announced
    assert threshold_state_get().crossed_at == state.crossed_at
    threshold_check(snapshot=_at(70))
    assert not threshold_state_get().over
    threshold_check(snapshot=_at(88))
    assert len(_announcements()) == 2  # a new crossing
    assert not DeletionRequest.objects.exists()  # it never approves


def test_the_target_must_be_below_the_threshold():
    with pytest.raises(ValidationError):
        threshold_settings_set(enabled=True, over_percent=80, target_percent=85)
    assert threshold_settings_get().enabled is False


def test_the_setting_page_saves_and_needs_manage_settings(make_staff):
    url = reverse("dashboard:threshold")
    assert make_staff("deletion.view_candidates").get(url).status_code == 403
    admin = make_staff("deletion.manage_settings")
    data = {"enabled": "on", "over_percent": "90", "target_percent": "95"}
    assert "below the threshold" in admin.post(url, data).content.decode()
    assert threshold_settings_get().enabled is False
    data["target_percent"] = "75"
    assert admin.post(url, data).status_code == 302
    assert threshold_settings_get() == threshold_settings_get().__class__(True, 90.0, 75.0)
