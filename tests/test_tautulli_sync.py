"""The Tautulli history sync, end to end against the simulator over HTTP."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta

import pytest

from simulators.tautulli import TautulliSimulator
from syncing.models import Play, SyncRun
from syncing.runs import SyncAlreadyRunning, run_execute, run_queue
from syncing.services.operations import sync_all
from syncing.services.tautulli_sync import (
    tautulli_history_sync,
    tautulli_item_sync,
)
from tests import factories
from tests.tautulli_helpers import stats, target_of, utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def plex():
    return factories.plex_server()


@pytest.fixture
def tautulli(sim, plex):
    return factories.tautulli_server(plex=plex, base_url=sim.url, api_key=sim.api_key)


@pytest.fixture
def episode(plex):
    _show, _seasons, episodes = factories.show_tree(server=plex, seasons=1, episodes=2)
    ep = episodes[0]
    ep.guid = "plex://episode/harbor-1x01"
    ep.save()
    return ep


@pytest.fixture
def movie(plex):
    return factories.item(server=plex, type="movie", guid="plex://movie/long-road")


def test_plays_of_several_users_sum_up(sim, tautulli, episode, movie):
    ep = target_of(episode)
    sim.add_play(target=ep, user="alice", started=utc(5), play_seconds=1500)
    sim.add_play(target=ep, user="alice", started=utc(3), play_seconds=1600)
    sim.add_play(target=ep, user="bob", started=utc(4), play_seconds=1700)
    sim.add_play(target=target_of(movie), user="zoe", started=utc(2), play_seconds=6000)

    run = tautulli_history_sync(tautulli=tautulli)

    assert run.status == SyncRun.Status.SUCCESS, run.error
    assert stats(episode, movie) == [(3, 4800, utc(3)), (1, 6000, utc(2))]
    assert run.rows_fetched == 4 and run.rows_created == 4 and run.unmatched == 0
    stored = Play.objects.get(tautulli=tautulli, plex_id=movie.plex_id)
    assert (stored.parent_plex_id, stored.grandparent_plex_id) == (None, None)  # "" → NULL
    assert Play.objects.get(tautulli=tautulli, user="bob").grandparent_plex_id == (
        episode.grandparent_plex_id
    )


def test_resumed_session_counts_once_and_watch_time_excludes_pauses(sim, tautulli, episode):
    ep = target_of(episode)
    first = sim.add_play(
        target=ep, user="bob", started=utc(6), play_seconds=700, paused_seconds=300, percent=40
    )
    second = sim.add_play(
        target=ep, user="bob", started=utc(5), play_seconds=1000, paused_seconds=420, percent=95
    )

    tautulli_history_sync(tautulli=tautulli)

    plays = Play.objects.filter(tautulli=tautulli).order_by("row_id")
    assert [p.row_id for p in plays] == [first, second]
    assert plays[0].reference_id == plays[1].reference_id == first  # one resumed session
    assert stats(episode) == [(1, 1700, utc(5))]


def test_last_watched_is_newest_play_of_any_user(sim, tautulli, movie):
    mv = target_of(movie)
    sim.add_play(target=mv, user="alice", started=utc(1, hour=8))
    sim.add_play(target=mv, user="bob", started=utc(1, hour=20))  # written before alice's
    sim.add_play(target=mv, user="carol", started=utc(9))

    tautulli_history_sync(tautulli=tautulli)

    movie.refresh_from_db()
    assert movie.last_watched_at == utc(1, hour=20)
    assert movie.total_play_count == 3


def test_incremental_adds_exactly_new_plays_and_full_gives_identical_figures(
    sim, tautulli, episode, movie
):
    ep, mv = target_of(episode), target_of(movie)
    sim.add_play(target=ep, user="alice", started=utc(40), play_seconds=1000)
    sim.add_play(target=mv, user="bob", started=utc(2, hour=10), play_seconds=5000)
    first = tautulli_history_sync(tautulli=tautulli)
    assert stats(episode, movie) == [(1, 1000, utc(40)), (1, 5000, utc(2, hour=10))]

    # New plays: one started on the overlap day (the day before the newest synced play,
    # written only now since it stopped late), one today, one of a new user.
    sim.add_play(target=ep, user="carol", started=utc(3, hour=23, minute=50), play_seconds=900)
    sim.add_play(target=mv, user="alice", started=utc(0, hour=0, minute=5), play_seconds=4000)
    sim.add_play(target=ep, user="dave", started=utc(1), play_seconds=1100)
    before_requests = sim.request_count
    second = tautulli_history_sync(tautulli=tautulli)

    assert second.status == SyncRun.Status.SUCCESS, second.error
    assert second.rows_created == 3
    after_params = [
        r["after"] for r in sim.requests[before_requests:] if r.get("cmd") == "get_history"
    ]
    assert (
        after_params and min(after_params) == utc(4).date().isoformat()
    )  # newest day −1, −1 tz margin
    incremental = stats(episode, movie)
    assert incremental == [(3, 3000, utc(1)), (2, 9000, utc(0, hour=0, minute=5))]
    assert second.items_updated == 2

    third = tautulli_history_sync(tautulli=tautulli)
    assert third.rows_created == 0
    assert stats(episode, movie) == incremental
    assert third.items_updated == 0  # the overlap day re-read and recomputed, nothing changed

    full = tautulli_history_sync(tautulli=tautulli, full=True)
    assert full.rows_fetched == 5 and full.rows_created == 0
    assert stats(episode, movie) == incremental
    assert full.items_updated == 0
    assert first.inputs["full"] is False and full.inputs["full"] is True


def test_full_rebuild_resets_items_without_plays(sim, tautulli, movie, episode):
    movie.total_play_count, movie.total_watch_time_seconds = 7, 999
    movie.save()
    sim.add_play(target=target_of(episode), started=utc(1), play_seconds=600)

    run = tautulli_history_sync(tautulli=tautulli, full=True)

    assert stats(movie) == [(0, 0, None)]
    assert run.items_updated == 2  # the movie reset, the episode played
    movie.refresh_from_db()
    assert movie.tautulli_synced_at is not None


def test_days_back_limits_a_first_import(sim, tautulli, movie):
    sim.add_play(target=target_of(movie), user="alice", started=utc(30))
    sim.add_play(target=target_of(movie), user="bob", started=utc(3))

    run = tautulli_history_sync(tautulli=tautulli, days_back=7)

    assert run.rows_fetched == 1
    assert stats(movie) == [(1, 1800, utc(3))]


def test_long_history_is_read_in_windows_and_pages_exactly_once(sim, tautulli, movie, settings):
    settings.TAUTULLI_PAGE_SIZE = 7
    settings.TAUTULLI_WINDOW_ROWS = 10
    mv = target_of(movie)
    for n in range(300):  # a play every 16 hours over 200 days, several on the same day
        sim.add_play(
            target=mv,
            user=f"user{n % 5}",
            started=utc(200) + n * (utc(0) - utc(1)) * 2 / 3,
            play_seconds=100 + n,
        )
    run = tautulli_history_sync(tautulli=tautulli)

    assert run.status == SyncRun.Status.SUCCESS, run.error
    assert run.rows_fetched == 300 and run.rows_created == 300
    assert stats(movie)[0][:2] == (300, sum(100 + n for n in range(300)))
    history = [r for r in sim.requests if r["cmd"] == "get_history"]
    assert all(r["grouping"] == "0" and r["include_activity"] == "0" for r in history)
    assert all(int(r["length"]) > 0 for r in history)  # never length=-1
    assert len({(r["after"], r.get("before")) for r in history if "after" in r}) > 10  # windows


def test_live_activity_is_never_stored(sim, tautulli, movie):
    sim.add_activity(target=target_of(movie), user="alice", started=utc(0, hour=0))
    sim.add_play(target=target_of(movie), user="bob", started=utc(1))

    run = tautulli_history_sync(tautulli=tautulli)

    assert run.rows_fetched == 1 and Play.objects.count() == 1


def test_unmatched_plays_are_kept_and_counted(sim, tautulli, movie):
    gone = factories.item(server=factories.plex_server(), type="movie")  # another server's
    sim.add_play(target=target_of(movie), started=utc(2))
    sim.add_play(target=target_of(gone), user="bob", started=utc(1))

    run = tautulli_history_sync(tautulli=tautulli)

    assert run.unmatched == 1
    assert Play.objects.filter(tautulli=tautulli, plex_id=gone.plex_id).exists()
    assert stats(movie)[0][0] == 1


def test_history_follows_an_item_back_under_a_new_rating_key(sim, tautulli, plex, movie):
    sim.add_play(target=target_of(movie), user="alice", started=utc(10), play_seconds=4000)
    sim.add_play(target=target_of(movie), user="bob", started=utc(8), play_seconds=3000)
    tautulli_history_sync(tautulli=tautulli)
    # Plex re-added the file: the old rating key is gone, a new item carries the same GUID.
    old_key, guid = movie.plex_id, movie.guid
    movie.delete()
    again = factories.item(server=plex, type="movie", guid=guid)
    assert again.plex_id != old_key

    run = tautulli_history_sync(tautulli=tautulli)

    assert run.status == SyncRun.Status.SUCCESS, run.error
    assert stats(again) == [(2, 7000, utc(8))]
    assert tautulli_history_sync(tautulli=tautulli, full=True).status == SyncRun.Status.SUCCESS
    assert stats(again) == [(2, 7000, utc(8))]


@pytest.mark.parametrize("tz", ["America/Los_Angeles", "Pacific/Kiritimati", "Asia/Kolkata"])
def test_plays_near_midnight_in_the_server_timezone_are_not_missed(fast_tautulli, plex, movie, tz):
    with TautulliSimulator(tz=tz) as sim:
        tautulli = factories.tautulli_server(plex=plex, base_url=sim.url, api_key=sim.api_key)
        mv = target_of(movie)
        sim.add_play(target=mv, user="a", started=utc(7, hour=0, minute=10), play_seconds=600)
        sim.add_play(target=mv, user="b", started=utc(7, hour=23, minute=55), play_seconds=700)
        first = tautulli_history_sync(tautulli=tautulli, days_back=7)
        assert first.rows_fetched == 2
        # Later: a play that started just after UTC midnight on the overlap day (the
        # previous local day west of UTC), and one a minute ago (from 10:00 UTC on, already
        # tomorrow in Kiritimati).
        recent = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        sim.add_play(target=mv, user="c", started=utc(8, hour=0, minute=1), play_seconds=800)
        sim.add_play(target=mv, user="d", started=recent, play_seconds=900)
        second = tautulli_history_sync(tautulli=tautulli)
    assert second.rows_created == 2
    assert stats(movie) == [(4, 3000, recent)]


@pytest.fixture
def synced(sim, tautulli, episode, movie):
    """A successful first sync over 90 days of history, then two new plays on the server."""
    ep, mv = target_of(episode), target_of(movie)
    for n in range(90):
        sim.add_play(target=ep if n % 2 else mv, user=f"u{n % 3}", started=utc(90 - n))
    assert tautulli_history_sync(tautulli=tautulli).status == SyncRun.Status.SUCCESS
    sim.add_play(target=ep, user="late", started=utc(0, hour=0))
    sim.add_play(target=mv, user="late", started=utc(0, hour=0, minute=30))
    return stats(episode, movie)


# Each breaks the server in one way; "malformed" breaks a full run on its second window, after
# the first window's plays were stored.
FAILURES = {
    "down": (lambda sim, t, full: sim.stop(), "unreachable"),
    "wrong key": (lambda sim, t, full: setattr(t, "api_key", "wrong-key-123456"), "Invalid apikey"),
    "result error": (
        lambda sim, t, full: sim.fault(error="database is locked", cmd="get_history", count=None),
        "database is locked",
    ),
    "malformed": (
        lambda sim, t, full: sim.fault(
            malformed=True, cmd="get_history", at=sim.request_count + (3 if full else 1)
        ),
        "malformed JSON",
    ),
    "http 500": (
        lambda sim, t, full: sim.fault(status=500, cmd="get_history", count=None),
        "HTTP 500",
    ),
    "timeout": (lambda sim, t, full: sim.fault(delay=2.5, cmd="get_history"), "did not answer"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("full", [False, True])
def test_failed_sync_keeps_stats_and_never_leaks_the_key(
    sim, tautulli, episode, movie, synced, caplog, failure, full
):
    caplog.set_level(logging.DEBUG)
    key = tautulli.api_key
    break_it, reason = FAILURES[failure]
    break_it(sim, tautulli, full)

    run = tautulli_history_sync(tautulli=tautulli, full=full)

    assert run.status == SyncRun.Status.FAILED
    assert reason in run.error
    assert stats(episode, movie) == synced
    for secret in {key, tautulli.api_key}:
        assert secret not in run.error
        assert secret not in caplog.text
    assert "failed" in caplog.text  # the failure itself was logged


def test_second_sync_while_one_runs_is_refused(tautulli):
    run_queue(kind=SyncRun.Kind.TAUTULLI, target=tautulli)
    with pytest.raises(SyncAlreadyRunning):
        tautulli_history_sync(tautulli=tautulli)


def test_item_sync_refreshes_one_item(sim, tautulli, episode, movie):
    sim.add_play(target=target_of(movie), user="alice", started=utc(4), play_seconds=3000)
    sim.add_play(target=target_of(episode), user="bob", started=utc(3), play_seconds=1200)

    run = tautulli_item_sync(tautulli=tautulli, plex_id=movie.plex_id)
    assert (run.status, run.rows_fetched, run.kind) == ("success", 1, "tautulli_item")

    assert stats(movie, episode) == [(1, 3000, utc(4)), (0, 0, None)]
    assert sim.requests[-1]["rating_key"] == str(movie.plex_id)


def test_sync_all_runs_every_enabled_server(sim, tautulli, plex, movie):
    factories.tautulli_server(plex=plex, enabled=False)
    sim.add_play(target=target_of(movie), started=utc(1))

    runs = sync_all(trigger="schedule", kinds=["tautulli"])

    assert [(r.tautulli_server_id, r.status, r.trigger) for r in runs] == [
        (tautulli.pk, SyncRun.Status.SUCCESS, "schedule")
    ]


def test_removed_item_keeps_its_plays_and_the_new_one_gets_them_by_guid(sim, tautulli, plex, movie):
    sim.add_play(target=target_of(movie), user="alice", started=utc(10), play_seconds=4000)
    tautulli_history_sync(tautulli=tautulli)
    movie.removed_at = utc(1)
    movie.save()
    again = factories.item(server=plex, type="movie", guid=movie.guid)
    sim.add_play(target=target_of(again), user="bob", started=utc(1), play_seconds=3000)

    run = tautulli_history_sync(tautulli=tautulli)

    assert run.unmatched == 0
    assert stats(movie, again) == [(1, 4000, utc(10)), (2, 7000, utc(1))]


def test_guid_never_pulls_plays_from_another_current_item(sim, tautulli, plex, movie):
    copy = factories.item(server=plex, type="movie", guid=movie.guid)  # e.g. a 4K edition
    sim.add_play(target=target_of(movie), user="alice", started=utc(3), play_seconds=4000)
    sim.add_play(target=target_of(copy), user="bob", started=utc(2), play_seconds=1000)

    tautulli_history_sync(tautulli=tautulli)

    assert stats(movie, copy) == [(1, 4000, utc(3)), (1, 1000, utc(2))]


def test_item_sync_failure_fails_its_run_clearly_and_changes_nothing(sim, tautulli, movie):
    sim.add_play(target=target_of(movie), started=utc(4), play_seconds=3000)
    tautulli_history_sync(tautulli=tautulli)
    sim.add_play(target=target_of(movie), user="bob", started=utc(1))
    sim.fault(malformed=True, cmd="get_history")

    run = tautulli_item_sync(tautulli=tautulli, plex_id=movie.plex_id)

    assert run.status == SyncRun.Status.FAILED and "malformed JSON" in run.error

    assert stats(movie) == [(1, 3000, utc(4))]


def test_a_queued_sync_now_run_is_adopted(sim, tautulli, movie):
    sim.add_play(target=target_of(movie), started=utc(2), play_seconds=2500)
    queued = run_queue(
        kind=SyncRun.Kind.TAUTULLI, target=tautulli, trigger="admin", inputs={"full": True}
    )

    run = run_execute(queued)

    assert run.pk == queued.pk and run.status == SyncRun.Status.SUCCESS
    assert SyncRun.objects.count() == 1
    assert stats(movie) == [(1, 2500, utc(2))]


def test_awkward_characters_in_users_and_titles_are_stored_as_sent(sim, tautulli, movie):
    """Tabs, newlines, backslashes and non-ASCII go through COPY on PostgreSQL unchanged."""
    target = dataclasses.replace(
        target_of(movie),
        title='Tab\there, new\nline, back\\slash \\N, "quotes", Amélie 東京',
    )
    sim.add_play(target=target, user="zoë\\\tx", started=utc(2), play_seconds=600)

    run = tautulli_history_sync(tautulli=tautulli)

    assert run.status == SyncRun.Status.SUCCESS, run.error
    play = Play.objects.get(tautulli=tautulli)
    assert (play.user, play.title) == ("zoë\\\tx", target.title)
