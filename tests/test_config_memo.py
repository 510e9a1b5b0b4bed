"""system_config is read once per request (media.services.config_memo): a change is seen on
the next request, a write inside the request is read back, and nothing leaks between them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deletion.config import deletion_settings_get, deletion_settings_set
from media.services import config_get, config_memo, config_set, storage_capacity_get

pytestmark = pytest.mark.django_db

DRY_RUN_PILL = "Dry run is on"


def test_a_change_is_seen_on_the_next_request(make_staff):
    viewer = make_staff("deletion.view_candidates")
    assert DRY_RUN_PILL in viewer.get(reverse("deletion:candidates")).content.decode()
    deletion_settings_set(dry_run=False)
    assert DRY_RUN_PILL not in viewer.get(reverse("deletion:candidates")).content.decode()
    deletion_settings_set(dry_run=True)
    assert DRY_RUN_PILL in viewer.get(reverse("deletion:candidates")).content.decode()


def test_a_settings_post_is_seen_by_the_next_page(make_staff):
    admin = make_staff("deletion.manage_settings", "deletion.view_candidates")
    response = admin.post(
        reverse("deletion:settings"),
        {"capacity_source": "manual", "total_gb": "123", "max_groups": "3", "max_gb": "10"},
    )
    assert response.status_code == 302
    page = admin.get(reverse("deletion:candidates"))
    assert page.context["storage"].capacity_bytes == 123 * 1024**3
    assert DRY_RUN_PILL not in page.content.decode()


def test_inside_a_request_keys_are_read_in_one_query_and_writes_read_back():
    config_set("a", {"n": 1})
    config_set("b", [1])
    with config_memo():
        with CaptureQueriesContext(connection) as ctx:
            assert config_get("a") == {"n": 1} and config_get("b") == [1]
            assert config_get("missing", "default") == "default"
        assert len(ctx.captured_queries) == 1
        config_get("a")["n"] = 99  # a caller changing what it read changes nothing stored
        assert config_get("a") == {"n": 1}
        config_set("a", {"n": 2})
        assert config_get("a") == {"n": 2}
        deletion_settings_set(max_groups=7)
        assert deletion_settings_get().max_groups == 7
    assert storage_capacity_get().total_gb is None


def test_outside_a_request_every_read_asks_the_database():
    config_set("a", 1)
    assert config_get("a") == 1
    config_set("a", 2)
    assert config_get("a") == 2
    with CaptureQueriesContext(connection) as ctx:
        config_get("a")
        config_get("a")
    assert len(ctx.captured_queries) == 2
