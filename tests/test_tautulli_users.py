"""Tautulli's users and the per-user rollup of plays, refreshed inside every history sync."""

from __future__ import annotations

from dataclasses import replace

import pytest

from syncing.models import SyncRun, TautulliUser, UserGroupStats, UserItemStats
from syncing.services.tautulli_sync import tautulli_history_sync
from tests import factories
from tests.tautulli_helpers import target_of, utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(sim):
    plex = factories.plex_server()
    movie = factories.item(server=plex, title="Movie")
    tautulli = factories.tautulli_server(plex=plex, base_url=sim.url, api_key=sim.api_key)
    sim.set_user("ann", friendly_name="Ann", email="ann@example.test", user_id=11)
    sim.set_user("kid", friendly_name="", keep_history=0, user_id=12)
    sim.add_play(target=target_of(movie), user="ann", started=utc(5), percent=50)
    return tautulli, movie


def _users() -> list[tuple]:
    return list(
        TautulliUser.objects.order_by("user_id").values_list(
            "user_id", "username", "friendly_name", "email", "keep_history", "is_active"
        )
    )


def test_users_are_stored_with_their_history_setting(setup):
    tautulli, _ = setup
    assert tautulli_history_sync(tautulli=tautulli).status == "success"
    assert _users() == [  # Tautulli's built-in "Local" user (id 0) is left out
        (11, "ann", "Ann", "ann@example.test", True, True),
        (12, "kid", "kid", "kid@example.test", False, True),
    ]


def test_a_user_tautulli_no_longer_lists_is_kept_inactive(setup, sim):
    tautulli, _ = setup
    tautulli_history_sync(tautulli=tautulli)
    sim.history.users[1] = replace(sim.history.users[1], user_id=99)  # id 12 left get_users
    tautulli_history_sync(tautulli=tautulli)
    assert [(u[0], u[5]) for u in _users()] == [(11, True), (12, False), (99, True)]


def test_the_rollup_counts_plays_and_the_watched_threshold(setup, sim):
    tautulli, movie = setup
    tautulli_history_sync(tautulli=tautulli)
    row = UserItemStats.objects.get(user_id=11, plex_id=movie.plex_id)
    assert (row.plays, row.watched) == (1, False)  # 50 % is not watched

    sim.add_play(target=target_of(movie), user="ann", started=utc(4), percent=97)
    tautulli_history_sync(tautulli=tautulli)  # incremental
    row = UserItemStats.objects.get(user_id=11, plex_id=movie.plex_id)
    assert (row.plays, row.watched, row.server_id) == (1, True, movie.server_id)  # resumed


def test_a_failed_get_users_changes_nothing(setup, sim):
    tautulli, _ = setup
    tautulli_history_sync(tautulli=tautulli)
    before = _users()
    sim.set_user("ann", keep_history=0)
    sim.fault(cmd="get_users", error="Database is locked")

    run = tautulli_history_sync(tautulli=tautulli)

    assert run.status == SyncRun.Status.FAILED and "Database is locked" in run.error
    assert _users() == before


def _rollups() -> tuple[list, list]:
    items = UserItemStats.objects.order_by("user_id", "plex_id").values_list(
        "user_id", "plex_id", "parent_plex_id", "grandparent_plex_id", "plays",
        "watch_seconds", "last_watched_at", "watched",
    )  # fmt: skip
    groups = UserGroupStats.objects.order_by("level", "group_plex_id", "user_id").values_list(
        "level", "group_plex_id", "user_id", "plays", "last_watched_at", "watched_items"
    )
    return list(items), list(groups)


@pytest.fixture
def show(setup, sim):
    """Two seasons of three episodes: Ann watched two of season 1, Bob half of one."""
    _tautulli, movie = setup
    show, seasons, episodes = factories.show_tree(server=movie.server, seasons=2, episodes=3)
    for episode in episodes[:2]:
        sim.add_play(target=target_of(episode), user="ann", started=utc(6), percent=100)
    sim.add_play(target=target_of(episodes[0]), user="bob", started=utc(6), percent=50)
    return show, seasons, episodes


def test_the_show_and_season_rollup_counts_watched_episodes(setup, show):
    tautulli, _ = setup
    show_item, seasons, _episodes = show
    tautulli_history_sync(tautulli=tautulli)
    rows = {
        (level, key, user): (plays, watched)
        for level, key, user, plays, _, watched in _rollups()[1]
    }
    ann, bob = (TautulliUser.objects.get(username=n).user_id for n in ("ann", "bob"))
    assert rows == {
        ("season", seasons[0].plex_id, ann): (2, 2),
        ("season", seasons[0].plex_id, bob): (1, 0),
        ("show", show_item.plex_id, ann): (2, 2),
        ("show", show_item.plex_id, bob): (1, 0),
    }


def test_an_incremental_sync_refreshes_only_what_it_touched_and_equals_a_full_one(setup, sim, show):
    tautulli, movie = setup
    _show, _seasons, episodes = show
    tautulli_history_sync(tautulli=tautulli)
    sim.add_play(target=target_of(episodes[4]), user="bob", started=utc(1), percent=100)
    sim.add_play(target=target_of(episodes[0]), user="ann", started=utc(1), percent=100)
    sim.add_play(target=target_of(movie), user="carl", started=utc(1), percent=90)

    assert tautulli_history_sync(tautulli=tautulli).status == "success"  # incremental
    incremental = _rollups()
    assert tautulli_history_sync(tautulli=tautulli, full=True).status == "success"
    assert _rollups() == incremental
    assert len(incremental[1]) == 5  # Bob's season 2 appeared beside the four first rows


@pytest.mark.parametrize("full", [False, True])
def test_a_failed_sync_keeps_the_rollups(setup, sim, show, full):
    tautulli, movie = setup
    tautulli_history_sync(tautulli=tautulli)
    before = _rollups()
    sim.add_play(target=target_of(movie), user="bob", started=utc(1), percent=100)
    sim.fault(cmd="get_users", error="Database is locked")

    run = tautulli_history_sync(tautulli=tautulli, full=full)

    assert run.status == SyncRun.Status.FAILED
    assert _rollups() == before
