"""`manage.py sync_plex`: progress bar, summary, non-zero exit with a one-line reason."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from media.models import MediaItem, PlexServer
from syncing.models import SyncRun
from syncing.runs import run_queue
from tests import factories
from tests.conftest_plex import SIM_TOKEN

pytestmark = pytest.mark.django_db


def run_command(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync_plex", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_syncs_every_enabled_server_with_progress_and_summary(sim_server, small_pages):
    out, err = run_command()
    assert out.startswith("Home Plex: OK in ")
    assert "74 seen, 74 created, 0 updated, 0 gone; 12 pages, 19 requests" in out
    assert "74/74" in err  # the progress bar reached the end
    assert MediaItem.objects.filter(server=sim_server).count() == 74
    run = SyncRun.objects.get()
    assert (run.trigger, run.status) == ("command", SyncRun.Status.SUCCESS)


def test_server_option_picks_one_server(sim_server, plex_sim):
    other = factories.plex_server(name="Elsewhere", base_url="http://127.0.0.1:9")
    out, _ = run_command("--server", "Home Plex")
    assert "Home Plex: OK" in out and "Elsewhere" not in out
    assert not SyncRun.objects.filter(plex_server=other).exists()


def test_failure_exits_non_zero_with_the_reason(sim_server, plex_sim):
    sim_server.token = "stale-token"
    sim_server.save()
    with pytest.raises(CommandError) as err:
        run_command()
    message = str(err.value)
    assert message == (
        f"Home Plex: Plex at {plex_sim.url} rejected the token (401) while connecting"
    )
    assert "\n" not in message and "stale-token" not in message


def test_one_failing_server_does_not_stop_the_others(sim_server, plex_sim):
    factories.plex_server(name="Attic", base_url="http://127.0.0.1:9")
    out = StringIO()
    with pytest.raises(CommandError, match=r"^Attic: Cannot reach Plex at http://127\.0\.0\.1:9"):
        call_command("sync_plex", stdout=out, stderr=StringIO())
    assert "Home Plex: OK" in out.getvalue() and "Attic: FAILED" in out.getvalue()
    assert MediaItem.objects.filter(server=sim_server).count() == 74


def test_refuses_while_a_sync_is_running(sim_server):
    run_queue(kind=SyncRun.Kind.PLEX, target=sim_server)
    with pytest.raises(
        CommandError, match=r"^Home Plex: A Plex library sync is already running or queued \(run #"
    ):
        run_command()
    assert not MediaItem.objects.exists()


def test_unknown_server_and_no_server():
    with pytest.raises(CommandError, match="No Plex server named 'Nope'"):
        run_command("--server", "Nope")
    with pytest.raises(
        CommandError, match="No Plex server is configured: set PLEX_URL and PLEX_TOKEN"
    ):
        run_command()


def test_plex_url_from_the_environment_alone_syncs(db, plex_sim, settings):
    """Migrated without PLEX_URL; set later, the command itself applies it and syncs."""
    assert not PlexServer.objects.exists()
    settings.PLEX_URL, settings.PLEX_TOKEN = plex_sim.url, SIM_TOKEN

    run_command()

    assert PlexServer.objects.get().name == "Plex (from environment)"
    assert MediaItem.objects.count() == 74


def test_a_token_without_url_says_so(db, settings):
    settings.PLEX_URL, settings.PLEX_TOKEN = "", "abc"
    with pytest.raises(CommandError, match="PLEX_TOKEN is set but PLEX_URL is empty"):
        run_command()
