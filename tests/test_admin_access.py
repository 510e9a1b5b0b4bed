"""Every admin page needs a logged-in staff user; staff browse the library list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db


def _admin_changelist_urls() -> list[str]:
    return [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m in admin.site._registry
    ]


def test_anonymous_is_redirected_to_login_everywhere(client):
    for url in [reverse("admin:index"), *_admin_changelist_urls()]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert reverse("admin:login") in response["Location"]


def test_non_staff_user_is_refused(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-1")
    client.force_login(user)
    for url in [reverse("admin:index"), *_admin_changelist_urls()]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert reverse("admin:login") in response["Location"]


def test_staff_without_permission_cannot_see_items(staff_client):
    response = staff_client.get(reverse("admin:media_mediaitem_changelist"))
    assert response.status_code == 403


@pytest.fixture
def library(plex_server):
    now = timezone.now()
    show, _, episodes = factories.show_tree(server=plex_server, title="Harbor Lights")
    movie_old = factories.item(
        server=plex_server,
        title="The Long Road",
        last_watched_at=now - timedelta(days=60),
        total_play_count=3,
        imdb_id="tt0000042",
    )
    movie_new = factories.item(
        server=plex_server,
        title="Fresh Catch",
        added_at=now - timedelta(days=2),
        last_watched_at=now - timedelta(days=1),
        total_play_count=1,
    )
    gone = factories.item(server=plex_server, title="Vanished", removed_at=now)
    return {"show": show, "episodes": episodes, "old": movie_old, "new": movie_new, "gone": gone}


def test_staff_see_the_library_list_with_filters_and_search(make_staff, library):
    client = make_staff("media.view_mediaitem")
    url = reverse("admin:media_mediaitem_changelist")
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Harbor Lights" in body and "The Long Road" in body
    assert "Vanished" not in body  # gone items hidden by default
    assert "S01E02" in body

    def titles(params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {o.title for o in response.context["cl"].result_list}

    assert titles({"type__exact": "movie"}) == {"The Long Road", "Fresh Catch"}
    assert titles({"watched": "recent"}) == {"Fresh Catch"}
    assert titles({"watched": "stale"}) == {"The Long Road"}
    assert "The Long Road" not in titles({"watched": "never"})
    assert titles({"added": "7", "type__exact": "movie"}) == {"Fresh Catch"}
    assert titles({"q": "long road"}) == {"The Long Road"}
    assert titles({"q": "tt0000042"}) == {"The Long Road"}
    assert titles({"q": str(library["new"].plex_id)}) == {"Fresh Catch"}
    assert titles({"presence": "gone"}) == {"Vanished"}


def test_item_detail_is_read_only_and_links_parents(make_staff, library):
    client = make_staff("media.view_mediaitem")
    episode = library["episodes"][0]
    page = client.get(reverse("admin:media_mediaitem_change", args=[episode.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("admin:media_mediaitem_change", args=[library["show"].pk]) in body
    assert 'name="_save"' not in body
    show_page = client.get(reverse("admin:media_mediaitem_change", args=[library["show"].pk]))
    assert f"grandparent_plex_id={library['show'].plex_id}" in show_page.content.decode()


def test_plex_token_is_never_rendered(admin_client, plex_server):
    page = admin_client.get(reverse("admin:media_plexserver_change", args=[plex_server.pk]))
    assert page.status_code == 200
    assert plex_server.token not in page.content.decode()


def test_blank_token_on_edit_keeps_the_stored_one(admin_client, plex_server):
    url = reverse("admin:media_plexserver_change", args=[plex_server.pk])
    data = {
        "name": "renamed",
        "base_url": plex_server.base_url,
        "token": "",
        "enabled": "on",
        "sections-TOTAL_FORMS": "0",
        "sections-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    plex_server.refresh_from_db()
    assert plex_server.name == "renamed" and plex_server.token.startswith("tok-")
