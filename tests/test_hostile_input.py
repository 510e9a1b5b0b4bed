"""Crafted input never gives a 500: each answer is a 400, a form error or a clamp.

Numbers that `str.isdigit()` accepts but `int()` refuses ("²"), numbers past 64 bits, a
non-ASCII webhook secret, JSON nested 100,000 deep, rule days past what a date can hold,
a capacity of inf, raw settings of the wrong type, and admin actions over thousands of rows.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from deletion.models import DeletionRule, Exclusion
from media.models import MediaItem, SystemConfig
from tests import factories
from tests.deletion_fixtures import history_synced

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # past 2**63 - 1


@pytest.fixture
def library(plex_server):
    """A movie and a show, old and unwatched, with a synced history."""
    history_synced(plex_server)
    factories.item(server=plex_server, type="movie", title="Movie")
    factories.show_tree(server=plex_server, title="Show", seasons=1, episodes=2)
    return plex_server


GETS = [
    ("deletion:candidates", {"page": "²"}),
    ("deletion:candidates", {"per_page": "²"}),
    ("deletion:candidates", {"group_by": "episode", "show": "1-²"}),
    ("deletion:candidates", {"group_by": "episode", "season": "²-1"}),
    ("deletion:candidates", {"page": HUGE}),
    ("deletion:candidates", {"per_page": HUGE}),
    ("deletion:candidates", {"group_by": "episode", "show": f"1-{HUGE}"}),
    ("deletion:candidates", {"group_by": "season", "show": f"{HUGE}-1"}),
    ("deletion:candidates", {"min_size_gb": "1e308"}),
    ("deletion:candidates", {"rule": HUGE}),
    ("deletion:history", {"page": "²"}),
    ("deletion:history", {"page": HUGE}),
    ("deletion:queue", {"confirm": "²"}),
    ("admin:media_mediaitem_changelist", {"q": "²"}),
    ("admin:media_mediaitem_changelist", {"q": HUGE}),
    ("admin:media_mediaitem_changelist", {"p": HUGE}),
    ("admin:deletion_auditlog_changelist", {"q": "²"}),
]


@pytest.mark.parametrize(("url_name", "params"), GETS, ids=[str(p) for _, p in GETS])
def test_crafted_query_strings_never_give_a_500(admin_client, library, url_name, params):
    response = admin_client.get(reverse(url_name), params)
    assert response.status_code in (200, 302, 400), response.status_code


POSTS = [
    {"action": "approve", "refs": [f"movie:{HUGE}:1"]},
    {"action": "approve", "refs": [f"movie:1:{HUGE}"]},
    {"action": "protect", "refs": [f"show:1:{HUGE}", "season:²:1"]},
    {"action": "protect", "refs": ["movie:1:1"], "until": "99999-01-01"},
]


@pytest.mark.parametrize("data", POSTS, ids=[str(d["refs"]) for d in POSTS])
def test_crafted_refs_never_give_a_500(admin_client, library, data):
    response = admin_client.post(reverse("deletion:action"), data)
    assert response.status_code in (302, 400)


def test_retry_of_a_request_id_past_64_bits_is_a_404(admin_client, library):
    response = admin_client.post(f"/deletion/queue/{HUGE}/retry/")
    assert response.status_code == 404


def _webhook(body: bytes | str, **headers) -> int:
    url = reverse("syncing:tautulli_webhook")
    return Client().post(url, body, content_type="application/json", **headers).status_code


def test_webhook_secret_with_non_ascii_characters_is_refused():
    assert _webhook(b'{"rating_key": "1"}', HTTP_X_SMARTPLEX_SECRET="sécret") == 403


def test_webhook_json_nested_100000_deep_is_a_400():
    from syncing.services.webhooks import webhook_secret_get

    body = "[" * 100_000 + "]" * 100_000
    assert _webhook(body, HTTP_X_SMARTPLEX_SECRET=webhook_secret_get()) == 400


def test_rule_days_past_what_dates_hold_are_a_form_error(admin_client):
    data = {
        "name": "Forever",
        "enabled": "on",
        "include_movies": "on",
        "grace_days": "1000000000",
        "inactivity_days": "15",
        "max_plays": "2",
    }
    response = admin_client.post(reverse("admin:deletion_deletionrule_add"), data)
    assert response.status_code == 200
    assert "grace_days" in response.context["adminform"].form.errors
    assert not DeletionRule.objects.filter(name="Forever").exists()


@pytest.mark.parametrize("value", ["1e308", "inf", "nan", "-inf", "1e400"])
def test_capacity_out_of_range_from_the_command_is_refused(value):
    with pytest.raises(CommandError):
        call_command("storage_capacity", value)
    assert not SystemConfig.objects.filter(key="storage_capacity_gb").exists()


BAD_CONFIG = [
    ("storage_capacity_gb", "lots"),
    ("storage_capacity_gb", {"total_gb": "lots", "updated_at": 5, "path": ["x"]}),
    ("storage_capacity_gb", {"total_gb": 1e308}),
    ("storage_capacity_gb", [1, 2]),
    ("deletion_settings", {"dry_run": "no", "max_groups": "many", "max_gb": None}),
    ("deletion_settings", {"max_groups": 1e300, "max_gb": "inf"}),
    ("deletion_settings", "on"),
    ("tautulli_webhook_secret", 12345),
    ("tautulli_webhook_secret", {"secret": ["a"]}),
]
PAGES = [
    "admin:index",
    "deletion:candidates",
    "deletion:queue",
    "deletion:settings",
    "deletion:history",
    "admin:media_systemconfig_changelist",
]


@pytest.mark.parametrize(("key", "value"), BAD_CONFIG, ids=[f"{k}={v}" for k, v in BAD_CONFIG])
def test_raw_settings_of_the_wrong_type_leave_every_page_loading(
    admin_client, library, key, value, caplog
):
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value})
    for name in PAGES:
        response = admin_client.get(reverse(name))
        assert response.status_code == 200, name
    webhook = _webhook(b'{"rating_key": "1"}', HTTP_X_SMARTPLEX_SECRET="guess")
    assert webhook == 403


def test_admin_protect_on_3000_movies_works(admin_client, plex_server):
    MediaItem.objects.bulk_create(
        MediaItem(server=plex_server, plex_id=10_000 + n, title=f"M{n}", type="movie")
        for n in range(3000)
    )
    data = {"action": "protect_items", "select_across": "1", "index": "0", "confirmed": "yes"}
    data["_selected_action"] = [str(MediaItem.objects.first().pk)]  # with select_across
    response = admin_client.post(reverse("admin:media_mediaitem_changelist"), data)
    assert response.status_code == 302
    assert Exclusion.objects.count() == 3000


def test_a_bad_value_never_reaches_json_storage():
    """Infinity is not JSON: PostgreSQL's jsonb would refuse it (and every reader after)."""
    call_command("storage_capacity", "250")
    raw = SystemConfig.objects.get(key="storage_capacity_gb").value
    assert json.loads(json.dumps(raw, allow_nan=False))["total_gb"] == 250


def test_admin_approve_on_3000_movies_works(admin_client, plex_server):
    """One approval per row, but the protections and open requests are read once."""
    from deletion.models import DeletionRequest
    from tests.deletion_fixtures import days_ago

    history_synced(plex_server)
    MediaItem.objects.bulk_create(
        MediaItem(server=plex_server, plex_id=10_000 + n, title=f"M{n}", type="movie",
                  added_at=days_ago(100), file_size_bytes=1)
        for n in range(3000)
    )  # fmt: skip
    first = MediaItem.objects.order_by("pk").first()
    Exclusion.objects.create(server=plex_server, level="movie", plex_id=first.plex_id)
    data = {"action": "approve_items", "select_across": "1", "index": "0", "confirmed": "yes"}
    data["_selected_action"] = [str(first.pk)]
    response = admin_client.post(reverse("admin:media_mediaitem_changelist"), data)
    assert response.status_code == 302
    assert DeletionRequest.objects.count() == 2999  # the protected one is refused
