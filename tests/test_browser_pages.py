"""The dashboard and the planner in a real browser, and every SmartPlex page at 390 px.

Screenshots go to test-artifacts/ (dashboard.png, plan.png, phone-*.png).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import StorageSnapshot
from dashboard.services import dashboard_refresh
from deletion.models import DeletionRequest, DeletionRule, Level
from deletion.services import candidates_approve
from media.formatting import GB
from media.services import storage_capacity_set
from tests import factories
from tests.browser import ARTIFACTS, chromium, log_in, needs_chromium
from tests.deletion_fixtures import days_ago, history_synced

pytestmark = needs_chromium

PHONE = {"width": 390, "height": 844}
PAGES = {
    "dashboard": "/",
    "plan": "/deletion/plan/?free_gb=8",
    "candidates": "/deletion/",
    "seasons": "/deletion/?group_by=season",
    "queue": "/deletion/queue/",
    "history": "/deletion/history/",
    "settings": "/deletion/settings/",
    "threshold": "/settings/threshold/",
}


@pytest.fixture
def library(db, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-boss-123")
    server = factories.plex_server(name="Living room")
    history_synced(server)
    storage_capacity_set(total_gb=40)
    old = {"added_at": days_ago(300), "last_watched_at": days_ago(120)}
    for title in (
        "Harbor Lights of the Extraordinarily Long Title",
        "Iron Kingdom",
        "Paper Signal",
    ):
        factories.show_tree(server=server, title=title, **old)
    movies = [
        factories.item(server=server, title=f"Glass River {n}", file_size_bytes=n * GB, **old)
        for n in (2, 3, 4)
    ]
    rule = DeletionRule.objects.first() or DeletionRule.objects.create(name="Default")
    candidates_approve(refs=[(Level.MOVIE, server.pk, movies[0].plex_id)], user=boss, rule=rule)
    now = timezone.now()
    for day in range(80, 0, -1):
        used = int((14 + 0.12 * (80 - day)) * GB)
        StorageSnapshot.objects.create(taken_at=now - timedelta(days=day), used_bytes=used)
    dashboard_refresh()
    return server


@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone(live_server, library, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop, our ORM
    too_wide = {}
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        log_in(page, live_server.url, "boss", "pw-boss-123")
        for name, path in PAGES.items():
            response = page.goto(live_server.url + path)
            assert response.status == 200, name
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide[name] = width
            page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    assert too_wide == {}


@pytest.mark.django_db(transaction=True)
def test_dashboard_then_plan_a_target_and_approve_it(live_server, library, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(page, live_server.url, "boss", "pw-boss-123")
        assert page.locator("section[data-testid=storage-history] svg polyline").count() >= 2
        assert "the disk fills on" in page.locator("[data-testid=fill-date]").inner_text()
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

        page.locator("[data-testid=top-candidates]").get_by_role(
            "link", name="Plan to free space"
        ).click()
        page.wait_for_url("**/deletion/plan/")
        page.fill("input[name=free_gb]", "8")
        page.select_option("select[name=order]", "size")
        page.click("form[data-testid=plan-form] button[type=submit]")
        page.wait_for_selector("[data-testid=plan-reached]")
        rows = page.locator("table[data-testid=plan] tbody tr")
        planned = rows.count()
        assert planned >= 2
        page.screenshot(path=str(ARTIFACTS / "plan.png"), full_page=True)

        page.click("form[data-testid=plan-approve] button[type=submit]")
        page.wait_for_url("**/deletion/queue/")
        assert page.locator(".message--success").count() == 1
        queued = page.locator("table[data-testid^=queue] tbody tr[data-status=approved]")
        assert queued.count() == planned + 1  # plus the movie approved by the fixture
    assert DeletionRequest.objects.filter(status="approved").count() == planned + 1
