"""`manage.py sync_tautulli`: progress, summary, options, and a one-line failure."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from syncing.models import SyncRun
from syncing.runs import run_queue
from tests import factories
from tests.tautulli_helpers import fast_tautulli, sim, stats, target_of, utc

__all__ = ["fast_tautulli", "sim"]  # fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(sim):
    plex = factories.plex_server()
    tautulli = factories.tautulli_server(
        plex=plex, base_url=sim.url, api_key=sim.api_key, name="Home"
    )
    movie = factories.item(server=plex, type="movie", guid="plex://movie/x")
    sim.add_play(target=target_of(movie), user="alice", started=utc(20), play_seconds=3000)
    sim.add_play(target=target_of(movie), user="bob", started=utc(2), play_seconds=2000)
    lost = factories.item(server=factories.plex_server(), type="movie")
    sim.add_play(target=target_of(lost), user="bob", started=utc(1))
    return tautulli, movie


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync_tautulli", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_progress_and_summary(setup):
    _, movie = setup
    out, err = run()
    assert "Home: success – 3 rows fetched, 3 new plays" in out
    assert "1 unmatched" in out
    assert "day" in err  # the progress bar
    assert stats(movie) == [(2, 5000, utc(2))]
    assert SyncRun.objects.get().trigger == "command"


def test_full_and_days_back(setup):
    _, movie = setup
    out, _ = run("--days-back", "7", "--server", "Home")
    assert "2 rows fetched" in out
    assert stats(movie) == [(1, 2000, utc(2))]
    out, _ = run("--full")
    assert "3 rows fetched, 1 new plays" in out
    assert stats(movie) == [(2, 5000, utc(2))]


def test_failure_is_a_one_line_command_error_without_the_key(setup, sim):
    _, movie = setup
    run()
    before = stats(movie)
    sim.fault(error="database is locked", cmd="get_history", count=None)
    with pytest.raises(CommandError) as info:
        run("--full")
    message = str(info.value)
    assert (
        message
        == "Tautulli sync failed – Home: Tautulli error on get_history (HTTP 200): database is locked"
    )
    assert sim.api_key not in message
    assert stats(movie) == before


def test_unknown_server_and_running_lock(setup):
    tautulli, _ = setup
    with pytest.raises(CommandError, match="No Tautulli server named 'Nope'"):
        run("--server", "Nope")
    run_queue(kind=SyncRun.Kind.TAUTULLI, target=tautulli)
    with pytest.raises(CommandError, match="already running"):
        run()
