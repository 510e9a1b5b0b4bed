"""The dashboard: fill-date projection, compact snapshots, plays per week, the page itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.models import PlayWeek, StorageSnapshot
from dashboard.projection import fill_projection
from dashboard.services import (
    dashboard_refresh,
    play_weeks_refresh,
    snapshots_backfill,
    snapshots_thin,
    storage_snapshot_take,
)
from deletion.models import DeletionRule, Level
from deletion.planner import reclaimable_get
from media.formatting import GB
from media.services import storage_capacity_set
from syncing.models import Play
from syncing.runs import run_now
from tests import factories
from tests.deletion_fixtures import days_ago, history_synced

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OLD = {"added_at": days_ago(300), "last_watched_at": days_ago(200)}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def _series(per_day: float, days: int = 30, start_gb: float = 500) -> list:
    return [
        (NOW - timedelta(days=days - d), int((start_gb + per_day * d) * GB))
        for d in range(days + 1)
    ]


def test_a_rising_disk_gets_the_date_the_line_reaches_capacity():
    projection = fill_projection(points=_series(10), capacity_bytes=1000 * GB, now=NOW)
    assert projection.state == "filling"
    assert projection.bytes_per_day == pytest.approx(10 * GB)
    assert abs(projection.fill_at - (NOW + timedelta(days=20))) < timedelta(minutes=1)


def test_a_flat_or_falling_disk_is_not_filling():
    for per_day in (0, -5):
        projection = fill_projection(points=_series(per_day), capacity_bytes=1000 * GB, now=NOW)
        assert projection.state == "not_filling" and projection.fill_at is None


def test_the_line_uses_only_the_last_30_days_and_needs_a_day_of_history():
    old_rise = [(NOW - timedelta(days=80 - d), (100 + 10 * d) * GB) for d in range(40)]
    flat = [(at, 600 * GB) for at, _ in _series(0)]
    assert fill_projection(points=old_rise + flat, capacity_bytes=1000 * GB, now=NOW).state == (
        "not_filling"
    )
    two_hours = [(NOW - timedelta(hours=2), 10 * GB), (NOW, 20 * GB)]
    assert fill_projection(points=two_hours, capacity_bytes=1000 * GB, now=NOW).state == "unknown"
    assert fill_projection(points=_series(10), capacity_bytes=None, now=NOW).state == "unknown"
    full = fill_projection(points=_series(10, start_gb=700), capacity_bytes=1000 * GB, now=NOW)
    assert full.state == "full"


@pytest.fixture
def library(plex_server):
    history_synced(plex_server)
    show, seasons, _ = factories.show_tree(server=plex_server, title="Old Show", **OLD)
    movie = factories.item(server=plex_server, title="Old Movie", file_size_bytes=4 * GB, **OLD)
    return plex_server, show, seasons, movie


@pytest.mark.django_db
def test_a_snapshot_records_used_capacity_reclaimable_and_top_candidates(library):
    storage_capacity_set(total_gb=100)
    snapshot = storage_snapshot_take()
    assert snapshot.used_bytes == 10 * GB and snapshot.capacity_bytes == 100 * GB
    assert (snapshot.reclaimable_show, snapshot.reclaimable_season) == (6 * GB, 6 * GB)
    assert (snapshot.reclaimable_episode, snapshot.reclaimable_movie) == (6 * GB, 4 * GB)
    assert [c["title"] for c in snapshot.top_candidates] == ["Old Show", "Old Movie"]


@pytest.mark.django_db
def test_a_group_selected_by_two_rules_is_counted_once(library):
    DeletionRule.objects.create(name="Second", grace_days=10, inactivity_days=10, max_plays=5)
    assert reclaimable_get()[Level.MOVIE] == (1, 4 * GB)


@pytest.mark.django_db
def test_snapshots_are_kept_one_per_hour_then_one_per_day(library):
    base = timezone.now().replace(minute=5, second=0, microsecond=0)
    storage_snapshot_take(now=base)
    storage_snapshot_take(now=base + timedelta(minutes=40))
    assert StorageSnapshot.objects.count() == 1
    storage_snapshot_take(now=base + timedelta(hours=1))
    assert StorageSnapshot.objects.count() == 2
    old_day = base - timedelta(days=40)
    for hour in range(0, 24, 3):
        StorageSnapshot.objects.create(taken_at=old_day.replace(hour=hour), used_bytes=hour * GB)
    assert snapshots_thin() == 7
    kept = StorageSnapshot.objects.filter(taken_at__lt=base - timedelta(days=30)).get()
    assert kept.used_bytes == 21 * GB  # the last of that day


@pytest.mark.django_db
def test_plays_are_counted_per_week(plex_server):
    tautulli = factories.tautulli_server(plex=plex_server)
    now = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)  # a Wednesday
    starts = [now - timedelta(days=1), now - timedelta(days=2), now - timedelta(days=9)]
    starts.append(now - timedelta(days=400))  # older than a year: not counted
    Play.objects.bulk_create(
        Play(tautulli=tautulli, row_id=n, started=at) for n, at in enumerate(starts)
    )
    play_weeks_refresh(now=now)
    weeks = dict(PlayWeek.objects.values_list("week_start", "plays"))
    assert len(weeks) == 53 and sum(weeks.values()) == 3
    assert weeks[now.date() - timedelta(days=2)] == 2  # Monday 1 June
    assert weeks[now.date() - timedelta(days=9)] == 1


@pytest.mark.django_db
def test_the_dashboard_needs_a_staff_login(client, django_user_model):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and "/admin/login/" in response.url
    client.force_login(django_user_model.objects.create_user("plain", password="pw-plain-123"))
    assert client.get(reverse("dashboard")).status_code == 302


@pytest.mark.django_db
def test_the_dashboard_shows_charts_fill_date_health_and_candidates(library, make_staff):
    storage_capacity_set(total_gb=20)
    now = timezone.now()
    for day in range(60, 0, -1):  # 5 GB used, rising 0.1 GB a day
        StorageSnapshot.objects.create(
            taken_at=now - timedelta(days=day), used_bytes=int((4 + 0.1 * (60 - day)) * GB)
        )
    dashboard_refresh()
    boss = make_staff("deletion.view_candidates")
    response = boss.get(reverse("dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<svg") == 2 and "chart__line--used" in html
    assert "the disk fills on" in html
    assert 'data-testid="reclaimable"' in html and "Whole shows" in html
    assert "Old Show" in html and 'data-testid="top-candidates"' in html
    assert 'data-state="ok"' in html  # the Tautulli run of the fixture
    viewer = make_staff()
    assert "Old Show" not in viewer.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_the_dashboard_reads_only_pre_aggregates(
    library, make_staff, django_assert_max_num_queries
):
    dashboard_refresh()
    boss = make_staff("deletion.view_candidates")
    boss.get(reverse("dashboard"))
    with django_assert_max_num_queries(16):
        boss.get(reverse("dashboard"))


@pytest.mark.django_db
def test_a_sync_takes_a_snapshot_and_a_failed_one_does_not(sim_server, plex_sim):
    storage_capacity_set(total_gb=1000)
    run = run_now(kind="plex", target=sim_server, trigger="test")
    assert run.status == "success"
    snapshot = StorageSnapshot.objects.get()
    assert snapshot.used_bytes > 0 and snapshot.capacity_bytes == 1000 * GB
    assert PlayWeek.objects.count() == 53
    plex_sim.fail_on("/library/sections")
    assert run_now(kind="plex", target=sim_server, trigger="test").status == "failed"
    assert StorageSnapshot.objects.get().taken_at == snapshot.taken_at  # no new snapshot


@pytest.mark.django_db
def test_backfill_estimates_past_usage_from_arrival_dates(plex_server):
    now = timezone.now()
    for age in (100, 50, 10):
        factories.item(server=plex_server, added_at=now - timedelta(days=age), file_size_bytes=GB)
    StorageSnapshot.objects.create(taken_at=now - timedelta(days=20), used_bytes=7 * GB)
    assert snapshots_backfill(days=120, now=now) == 119  # every day but the one it had
    used = dict(
        (round((now - at).total_seconds() / 86400), b)
        for at, b in StorageSnapshot.objects.values_list("taken_at", "used_bytes")
    )
    assert (used[101], used[99], used[30], used[20], used[5]) == (0, GB, 2 * GB, 7 * GB, 3 * GB)


@pytest.mark.django_db
def test_pages_declare_their_icon_so_browsers_do_not_ask_for_a_missing_favicon(admin_client):
    """Without a declared icon every page view made the browser ask /favicon.ico, and the
    server logged a "Not Found" warning for each."""
    pages = [admin_client.get("/"), admin_client.get("/admin/"), Client().get("/admin/login/")]
    for response in pages:
        assert response.status_code == 200
        assert b'<link rel="icon"' in response.content, response.request["PATH_INFO"]
