"""Admin: MediaItem "Protect" / "Approve for deletion" actions, read-only audit log, index link."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from deletion.models import AuditLog, DeletionRequest, Exclusion
from tests import factories
from tests.deletion_fixtures import days_ago, history_synced

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:media_mediaitem_changelist"


@pytest.fixture
def items(plex_server):
    history_synced(plex_server)
    show, _, _ = factories.show_tree(server=plex_server, title="Quiet Orchard")
    movie = factories.item(server=plex_server, title="Glass River", added_at=days_ago(90))
    return show, movie


def _post_action(client, action: str, objs, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [o.pk for o in objs], **extra}
    return client.post(reverse(CHANGELIST), data)


def test_approve_action_asks_for_confirmation_first(make_staff, items):
    client = make_staff("media.view_mediaitem", "deletion.approve_deletion")
    response = _post_action(client, "approve_items", items)
    assert response.status_code == 200
    assert "Yes, approve them" in response.content.decode()
    assert not DeletionRequest.objects.exists()


def test_confirmation_page_is_found_through_the_admin_lookup_chain(make_staff, items):
    client = make_staff("media.view_mediaitem", "deletion.protect_media")
    response = _post_action(client, "protect_items", items)
    assert response.templates[0].name == "admin/action_confirmation.html"
    assert response.template_name == [
        "admin/media/mediaitem/action_confirmation.html",
        "admin/media/action_confirmation.html",
        "admin/action_confirmation.html",
    ]
    assert response.context["site_header"]  # each_context: the admin's header and sidebar
    assert reverse(CHANGELIST) in response.content.decode()  # breadcrumbs back to the list


def test_approve_action_after_confirmation(make_staff, items):
    show, movie = items
    client = make_staff("media.view_mediaitem", "deletion.approve_deletion")
    response = _post_action(client, "approve_items", items, confirmed="yes")
    assert response.status_code == 302
    assert set(DeletionRequest.objects.values_list("level", "plex_id")) == {
        ("show", show.plex_id),
        ("movie", movie.plex_id),
    }
    assert DeletionRequest.objects.get(level="show").item_count == 6
    messages = [m.message for m in response.wsgi_request._messages]
    assert any("2 done" in m for m in messages)


def test_protect_action(make_staff, items):
    client = make_staff("media.view_mediaitem", "deletion.protect_media")
    _post_action(client, "protect_items", items[:1], confirmed="yes", reason="Keep")
    exclusion = Exclusion.objects.get()
    assert exclusion.level == "show" and exclusion.reason == "Keep"
    assert AuditLog.objects.filter(action="protect").count() == 1


@pytest.mark.parametrize("action", ["approve_items", "protect_items"])
def test_actions_need_their_permission(make_staff, items, action):
    client = make_staff("media.view_mediaitem")
    changelist = client.get(reverse(CHANGELIST)).content.decode()
    assert f'value="{action}"' not in changelist
    _post_action(client, action, items, confirmed="yes")
    assert not DeletionRequest.objects.exists() and not Exclusion.objects.exists()


def test_audit_log_is_read_only(admin_client, items):
    entry = AuditLog.objects.create(action="approve", username="x")
    change = admin_client.get(reverse("admin:deletion_auditlog_change", args=[entry.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    delete = admin_client.post(reverse("admin:deletion_auditlog_delete", args=[entry.pk]))
    assert delete.status_code == 403
    assert AuditLog.objects.filter(pk=entry.pk).exists()
    entry.message = "edited"
    with pytest.raises(ValueError):
        entry.save()


def test_admin_index_links_to_the_candidates(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("deletion:candidates") in html
