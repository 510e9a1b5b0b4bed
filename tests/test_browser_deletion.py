"""The deletion workflow in a real browser: Debian's Chromium driven by Playwright.

Log in through the admin login page, filter, group by show, approve two rows, and see them
in the approved queue. A screenshot goes to test-artifacts/deletion.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deletion.models import DeletionRequest
from tests import factories
from tests.deletion_fixtures import days_ago, history_synced

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def library(db, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-boss-123")
    server = factories.plex_server(name="Living room")
    history_synced(server)
    old = {"added_at": days_ago(200), "last_watched_at": days_ago(60)}
    for title in ("Harbor Lights", "Iron Kingdom", "Paper Signal"):
        factories.show_tree(server=server, title=title, **old)
    factories.item(server=server, title="Glass River", added_at=days_ago(90))
    return server


@pytest.mark.django_db(transaction=True)
def test_filter_group_approve_and_see_the_queue(live_server, library, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop, our ORM
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{live_server.url}/admin/login/?next=/deletion/")
            page.fill("#id_username", "boss")
            page.fill("#id_password", "pw-boss-123")
            page.click("input[type=submit]")
            page.wait_for_url("**/deletion/")

            page.select_option("select[name=media]", "tv")
            page.click("form[data-testid=filter-form] button[type=submit]")
            page.wait_for_url("**media=tv**")
            page.locator("nav[data-testid=group-tabs]").get_by_role(
                "link", name="Shows", exact=True
            ).click()
            page.wait_for_url("**group_by=show**")
            rows = page.locator("table[data-testid=candidates] tbody tr")
            assert rows.count() == 3
            assert "Glass River" not in page.content()

            rows.nth(0).locator("input[name=refs]").check()
            rows.nth(1).locator("input[name=refs]").check()
            page.click("button[value=approve]")
            page.wait_for_selector(".message--success")
            assert page.locator("table[data-testid=candidates] tbody tr").count() == 1
            page.screenshot(path=str(ARTIFACTS / "deletion-candidates.png"), full_page=True)

            page.locator("nav.nav").get_by_role("link", name="Approved queue").click()
            page.wait_for_url("**/deletion/queue/")
            queued = page.locator("table[data-testid=queue-due] tbody tr[data-status=approved]")
            assert queued.count() == 2
            assert "Dry run is ON" in page.content()
            page.screenshot(path=str(ARTIFACTS / "deletion.png"), full_page=True)
        finally:
            browser.close()
    assert DeletionRequest.objects.filter(status="approved", level="show").count() == 2
