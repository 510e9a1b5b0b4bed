"""Tautulli's users and the per-user rollup of plays, refreshed inside every history sync."""

from __future__ import annotations

from dataclasses import replace

import pytest

from syncing.models import SyncRun, TautulliUser, UserItemStats
from syncing.services.tautulli_sync import tautulli_history_sync
from tests import factories
from tests.tautulli_helpers import fast_tautulli, sim, target_of, utc

__all__ = ["fast_tautulli", "sim"]  # fixtures

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
