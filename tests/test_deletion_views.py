"""The deletion pages through the test client: content, actions, permissions, GET safety."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deletion.config import deletion_settings_get
from deletion.groups import Ref
from deletion.models import AuditLog, DeletionRequest, Exclusion, Level
from media.formatting import GB
from media.services import storage_capacity_get
from tests import factories
from tests.deletion_fixtures import days_ago, history_synced

pytestmark = pytest.mark.django_db

ALL_PERMS = (
    "deletion.view_candidates",
    "deletion.approve_deletion",
    "deletion.protect_media",
    "deletion.execute_deletion",
    "deletion.manage_settings",
    "deletion.view_deletionrequest",
    "deletion.view_auditlog",
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The storage card caches the used bytes for a minute; each test starts clean."""
    cache.clear()


@pytest.fixture
def server(plex_server):
    history_synced(plex_server)
    return plex_server


@pytest.fixture
def library(server):
    old = {"added_at": days_ago(200), "last_watched_at": days_ago(100)}
    shows = [factories.show_tree(server=server, title=f"Show {n}", **old)[0] for n in range(3)]
    movies = [
        factories.item(server=server, title=f"Movie {n}", added_at=days_ago(90)) for n in range(2)
    ]
    return shows, movies


@pytest.fixture
def boss(make_staff):
    return make_staff(*ALL_PERMS)


def _ref(level, item) -> str:
    return str(Ref(level, item.server_id, item.plex_id))


def test_candidates_page_lists_groups_with_totals_and_storage(boss, library):
    shows, movies = library
    response = boss.get(reverse("deletion:candidates"))
    assert response.status_code == 200
    html = response.content.decode()
    for show in shows:
        assert f'value="{_ref(Level.SHOW, show)}"' in html
        assert f"show={show.server_id}-{show.plex_id}" in html  # drill into its seasons
    assert f'value="{_ref(Level.MOVIE, movies[0])}"' in html
    assert response.context["page"].total_count == 5
    assert response.context["page"].total_bytes == (3 * 6 + 2) * GB
    assert 'data-testid="storage-card"' in html and 'data-testid="sync-badge"' in html


def test_group_by_and_filters(boss, library):
    shows, _ = library
    seasons = boss.get(reverse("deletion:candidates"), {"group_by": "season", "q": "Show 1"})
    rows = seasons.context["page"].rows
    assert {r.level for r in rows} == {"season"} and len(rows) == 2
    assert {r.show_plex_id for r in rows} == {shows[1].plex_id}
    drill = boss.get(
        reverse("deletion:candidates"),
        {"group_by": "episode", "show": f"{shows[0].server_id}-{shows[0].plex_id}"},
    )
    assert len(drill.context["page"].rows) == 6
    only_movies = boss.get(reverse("deletion:candidates"), {"media": "movie", "min_size_gb": "0.5"})
    assert {r.level for r in only_movies.context["page"].rows} == {"movie"}
    big = boss.get(reverse("deletion:candidates"), {"min_size_gb": "5"})
    assert {r.level for r in big.context["page"].rows} == {"show"}


def test_approve_selected_creates_requests_and_audit(boss, library):
    shows, movies = library
    url = reverse("deletion:action") + "?group_by=show"
    response = boss.post(
        url,
        {"action": "approve", "refs": [_ref(Level.SHOW, shows[0]), _ref(Level.MOVIE, movies[0])]},
    )
    assert response.status_code == 302
    requests = DeletionRequest.objects.order_by("level")
    assert [(r.level, r.plex_id, r.status) for r in requests] == [
        ("movie", movies[0].plex_id, "approved"),
        ("show", shows[0].plex_id, "approved"),
    ]
    assert requests[1].item_count == 6 and requests[1].size_bytes == 6 * GB
    assert AuditLog.objects.filter(action="approve").count() == 2
    # Approved groups leave the candidates and appear in the queue.
    page = boss.get(reverse("deletion:candidates")).context["page"]
    assert page.total_count == 3
    queue = boss.get(reverse("deletion:queue"))
    assert "Show 0" in queue.content.decode() and "Dry run is ON" in queue.content.decode()


def test_approving_twice_is_refused(boss, library):
    shows, _ = library
    data = {"action": "approve", "refs": [_ref(Level.SHOW, shows[0])]}
    boss.post(reverse("deletion:action"), data)
    boss.post(reverse("deletion:action"), data)
    assert DeletionRequest.objects.count() == 1


def test_protect_selected(boss, library):
    shows, _ = library
    boss.post(
        reverse("deletion:action"),
        {"action": "protect", "refs": [_ref(Level.SHOW, shows[2])], "reason": "Family favourite"},
    )
    exclusion = Exclusion.objects.get()
    assert (exclusion.level, exclusion.plex_id, exclusion.reason) == (
        "show", shows[2].plex_id, "Family favourite",
    )  # fmt: skip
    assert AuditLog.objects.filter(action="protect").count() == 1
    assert boss.get(reverse("deletion:candidates")).context["page"].total_count == 4


def test_execute_runs_the_task_in_dry_run_by_default(
    boss, library, django_capture_on_commit_callbacks
):
    shows, _ = library
    boss.post(
        reverse("deletion:action"), {"action": "approve", "refs": [_ref(Level.SHOW, shows[0])]}
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = boss.post(reverse("deletion:execute"))
    # the execution task, then (fired by it) the run's notification and collection refresh
    assert response.status_code == 302 and len(callbacks) == 3
    request = DeletionRequest.objects.get()
    assert request.status == "approved" and request.dry_run
    assert AuditLog.objects.filter(action="would_delete").count() == 1


def test_settings_page_saves_capacity_dry_run_and_caps(boss):
    response = boss.get(reverse("deletion:settings"))
    assert response.status_code == 200 and response.context["form"]["dry_run"].value() is True
    boss.post(
        reverse("deletion:settings"),
        {"capacity_source": "manual", "total_gb": "2000", "max_groups": "10", "max_gb": "50"},
    )
    assert storage_capacity_get().total_gb == 2000
    settings = deletion_settings_get()
    assert (settings.dry_run, settings.max_groups, settings.max_gb) == (False, 10, 50)


def test_settings_can_read_capacity_from_a_local_path(boss, tmp_path):
    boss.post(
        reverse("deletion:settings"),
        {
            "capacity_source": "disk",
            "disk_path": str(tmp_path),
            "dry_run": "on",
            "max_groups": "10",
            "max_gb": "50",
        },
    )
    capacity = storage_capacity_get()
    assert capacity.source == "disk" and capacity.total_gb > 0
    bad = boss.post(
        reverse("deletion:settings"),
        {"capacity_source": "disk", "disk_path": "/no/such/path", "max_groups": "1", "max_gb": "1"},
    )
    assert bad.status_code == 200 and "cannot be read" in bad.content.decode()


def test_history_page_shows_the_audit_log(boss, library):
    shows, _ = library
    boss.post(
        reverse("deletion:action"), {"action": "protect", "refs": [_ref(Level.SHOW, shows[0])]}
    )
    response = boss.get(reverse("deletion:history"))
    assert response.status_code == 200 and 'data-action="protect"' in response.content.decode()


# --- permissions: each action refused without its own permission ------------------------


def _without(perm: str) -> tuple[str, ...]:
    return tuple(p for p in ALL_PERMS if p != perm)


@pytest.mark.parametrize(
    ("perm", "method", "url_name", "data"),
    [
        ("deletion.view_candidates", "get", "deletion:candidates", {}),
        ("deletion.approve_deletion", "post", "deletion:action", {"action": "approve"}),
        ("deletion.protect_media", "post", "deletion:action", {"action": "protect"}),
        ("deletion.view_deletionrequest", "get", "deletion:queue", {}),
        ("deletion.execute_deletion", "post", "deletion:execute", {}),
        ("deletion.view_auditlog", "get", "deletion:history", {}),
        ("deletion.manage_settings", "get", "deletion:settings", {}),
        ("deletion.manage_settings", "post", "deletion:settings", {"max_groups": "1"}),
    ],
)
def test_each_action_needs_its_permission(make_staff, library, perm, method, url_name, data):
    shows, _ = library
    if url_name == "deletion:action":
        data = {**data, "refs": [_ref(Level.SHOW, shows[0])]}
    client = make_staff(*_without(perm))
    response = getattr(client, method)(reverse(url_name), data)
    assert response.status_code == 403
    assert not DeletionRequest.objects.exists() and not Exclusion.objects.exists()
    assert not AuditLog.objects.exists()


def test_retry_needs_approve_permission(make_staff, server):
    request = DeletionRequest.objects.create(
        server=server, level="movie", plex_id=1, approved_at=days_ago(1), status="failed"
    )
    client = make_staff(*_without("deletion.approve_deletion"))
    assert client.post(reverse("deletion:retry", args=[request.pk])).status_code == 403
    request.refresh_from_db()
    assert request.status == "failed"


def test_anonymous_and_non_staff_are_sent_to_login(client, django_user_model):
    url = reverse("deletion:candidates")
    assert reverse("admin:login") in client.get(url)["Location"]
    client.force_login(django_user_model.objects.create_user("plain", password="pw-plain-1"))
    assert reverse("admin:login") in client.get(url)["Location"]


@pytest.mark.parametrize(
    "url_name", ["deletion:action", "deletion:execute", "deletion:candidates", "deletion:queue"]
)
def test_get_never_changes_state(boss, library, url_name):
    shows, _ = library
    response = boss.get(
        reverse(url_name), {"action": "approve", "refs": _ref(Level.SHOW, shows[0])}
    )
    assert response.status_code in (200, 405)
    assert not DeletionRequest.objects.exists() and not AuditLog.objects.exists()


def test_forms_carry_csrf_tokens(boss, library):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.cookies = boss.cookies
    response = strict.post(reverse("deletion:action"), {"action": "approve"})
    assert response.status_code == 403
    page = boss.get(reverse("deletion:candidates")).content.decode()
    assert "csrfmiddlewaretoken" in page


# --- speed: the query count does not grow with the page size -----------------------------


def test_candidates_page_query_count_is_bounded(boss, server):
    for n in range(60):
        factories.show_tree(
            server=server, title=f"S{n}", seasons=1, episodes=2, added_at=days_ago(90)
        )
        factories.item(server=server, title=f"M{n}", added_at=days_ago(90))
    counts = {}
    for per_page in (100, 200):
        cache.clear()  # count the storage card's queries every time
        with CaptureQueriesContext(connection) as ctx:
            response = boss.get(reverse("deletion:candidates"), {"per_page": per_page})
        assert len(response.context["page"].rows) == min(per_page, 120)
        counts[per_page] = len(ctx.captured_queries)
    assert counts[100] == counts[200] <= 30


def test_retry_puts_a_failed_request_back_in_the_queue(boss, server):
    request = DeletionRequest.objects.create(
        server=server, level="movie", plex_id=1, approved_at=days_ago(1), status="failed"
    )
    boss.post(reverse("deletion:retry", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == "approved"
    assert AuditLog.objects.filter(action="approve", request=request).exists()


def test_storage_card_figures_and_projection(boss, library):
    from media.services import storage_capacity_set

    shows, _ = library
    storage_capacity_set(total_gb=40)
    storage = boss.get(reverse("deletion:candidates")).context["storage"]
    assert storage.used_bytes == 20 * GB and storage.free_bytes == 20 * GB
    assert storage.used_percent == 50 and storage.projected_percent == 50
    boss.post(
        reverse("deletion:action"), {"action": "approve", "refs": [_ref(Level.SHOW, shows[0])]}
    )
    storage = boss.get(reverse("deletion:queue")).context["storage"]
    assert storage.approved_bytes == 6 * GB and storage.projected_percent == 35
