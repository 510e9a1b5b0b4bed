"""Secrets stay secret: credentials inside base URLs, the webhook secret in the admin,
and the data folder and SQLite file readable by their owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from deletion.config import deletion_settings_set
from deletion.execution import deletion_execute
from deletion.models import DeletionRequest
from media.models import SystemConfig
from syncing.models import SyncRun
from syncing.runs import run_now
from syncing.services.webhooks import webhook_secret_get
from tests import factories
from tests.deletion_fixtures import history_synced

pytestmark = pytest.mark.django_db

PASSWORD = "hunter2-in-the-url"


@pytest.fixture
def fast(settings):
    settings.TAUTULLI_BACKOFF = 0
    settings.TAUTULLI_RETRIES = 0
    settings.PLEX_TIMEOUT = settings.TAUTULLI_TIMEOUT = 2


def test_credentials_in_base_urls_never_reach_a_run_error_or_a_page(admin_client, fast):
    plex = factories.plex_server(base_url=f"http://admin:{PASSWORD}@127.0.0.1:9")
    tautulli = factories.tautulli_server(
        plex=plex, base_url=f"http://admin:{PASSWORD}@127.0.0.1:9/tautulli"
    )
    runs = [
        run_now(kind=SyncRun.Kind.PLEX, target=plex, trigger="test"),
        run_now(kind=SyncRun.Kind.TAUTULLI, target=tautulli, trigger="test"),
    ]
    for run in runs:
        run.refresh_from_db()
        assert run.status == SyncRun.Status.FAILED and "127.0.0.1" in run.error
        assert PASSWORD not in run.error and "***@127.0.0.1" in run.error
    for url in (
        reverse("admin:index"),  # the badge and its tooltip
        reverse("admin:syncing_syncrun_changelist"),
        reverse("admin:syncing_syncrun_change", args=[runs[0].pk]),
        reverse("deletion:candidates"),
    ):
        page = admin_client.get(url).content.decode()
        assert PASSWORD not in page, url


def test_credentials_in_a_plex_url_never_reach_a_deletion_failure(admin_user, fast):
    plex = factories.plex_server(base_url=f"http://admin:{PASSWORD}@127.0.0.1:9")
    history_synced(plex, base_url=f"http://reader:{PASSWORD}@127.0.0.1:9")
    movie = factories.item(server=plex, type="movie")
    DeletionRequest.objects.create(
        server=plex, level="movie", plex_id=movie.plex_id, approved_at=movie.added_at
    )
    deletion_settings_set(dry_run=False)
    deletion_execute(user=admin_user)
    request = DeletionRequest.objects.get()
    assert request.status == "skipped" and "Could not confirm" in request.error
    assert PASSWORD not in request.error and "***@127.0.0.1" in request.error


def test_systemconfig_never_shows_the_webhook_secret_in_full(admin_client):
    secret = webhook_secret_get()
    row = SystemConfig.objects.get(key="tautulli_webhook_secret")
    pages = [
        admin_client.get(reverse("admin:media_systemconfig_changelist")),
        admin_client.get(reverse("admin:media_systemconfig_change", args=[row.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert secret not in html and secret[:12] not in html
        assert "tautulli_webhook_secret" in html and "********" in html


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_folder_and_sqlite_file_are_created_owner_only(tmp_path):
    data = tmp_path / "fresh" / "data"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SMARTPLEX_DATA_DIR=str(data), DJANGO_SETTINGS_MODULE="smartplex.settings")
    manage = Path(settings.BASE_DIR) / "manage.py"
    subprocess.run(
        [sys.executable, str(manage), "migrate", "-v", "0"], env=env, check=True, timeout=300
    )
    assert _mode(data) == 0o700
    database = data / "smartplex.sqlite3"
    assert _mode(database) == 0o600
    for extra in (data / "smartplex.sqlite3-wal", data / "secret_key"):
        if extra.exists():
            assert _mode(extra) & 0o077 == 0, extra
