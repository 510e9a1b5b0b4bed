"""Candidate groups on crafted data: what is (and is not) a candidate, and the numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from deletion.models import DeletionRequest, DeletionRule, Exclusion, Level
from deletion.selectors import SORTS, CandidateFilter, candidate_page_get, default_rule_get
from media.formatting import GB
from syncing.models import Play
from tests import factories
from tests.deletion_fixtures import days_ago, history_synced

pytestmark = pytest.mark.django_db


@pytest.fixture
def server(plex_server):
    history_synced(plex_server)
    return plex_server


@pytest.fixture
def rule():
    return default_rule_get()


def _page(rule, **kw):
    return candidate_page_get(f=CandidateFilter(rule=rule, **kw), per_page=kw.pop("per_page", 50))


def _refs(page) -> set[tuple[str, int]]:
    return {(c.level, c.plex_id) for c in page.rows}


def _old_show(server, title="Old Show", **kw):
    defaults = {"added_at": days_ago(200), "last_watched_at": days_ago(100), "total_play_count": 0}
    return factories.show_tree(server=server, title=title, **{**defaults, **kw})


def test_migration_created_one_default_rule(rule):
    assert DeletionRule.objects.count() == 1
    assert (rule.grace_days, rule.inactivity_days, rule.max_plays) == (30, 15, 2)
    assert rule.enabled


def test_show_watched_yesterday_is_not_a_candidate(server, rule):
    show, _, episodes = _old_show(server)
    other, _, _ = _old_show(server, title="Idle Show")
    episodes[-1].last_watched_at = days_ago(1)
    episodes[-1].save()
    refs = _refs(_page(rule, group_by="show"))
    assert (Level.SHOW, other.plex_id) in refs
    assert (Level.SHOW, show.plex_id) not in refs


def test_show_with_an_episode_added_within_grace_is_not_a_candidate(server, rule):
    _show, _, episodes = _old_show(server)
    episodes[0].added_at = days_ago(3)
    episodes[0].save()
    assert _refs(_page(rule, group_by="show")) == set()
    # Its other season is still a candidate on its own.
    seasons = _refs(_page(rule, group_by="season"))
    assert len(seasons) == 1


def test_two_shows_with_the_same_title_are_separate_groups(server, rule):
    a, _, _ = _old_show(server, title="The Office")
    b, _, _ = _old_show(server, title="The Office", seasons=1)
    page = _page(rule, group_by="show")
    assert _refs(page) == {(Level.SHOW, a.plex_id), (Level.SHOW, b.plex_id)}
    assert sorted(c.items for c in page.rows) == [3, 6]


def test_season_zero_is_a_season(server, rule):
    show, seasons, _episodes = _old_show(server, seasons=1)
    specials = factories.item(
        server=server, type="season", title="Specials", parent_plex_id=show.plex_id, season_number=0
    )
    factories.item(
        server=server,
        type="episode",
        title="Special 1",
        grandparent_title="Old Show",
        parent_title="Specials",
        grandparent_plex_id=show.plex_id,
        parent_plex_id=specials.plex_id,
        season_number=0,
        episode_number=1,
        added_at=days_ago(300),
    )
    page = _page(rule, group_by="season")
    by_key = {c.plex_id: c for c in page.rows}
    assert by_key[specials.plex_id].season_number == 0
    assert by_key[specials.plex_id].items == 1
    assert by_key[seasons[0].plex_id].items == 3


def test_sizes_and_plays_aggregate(server, rule):
    _show, _, episodes = _old_show(server)
    for n, ep in enumerate(episodes):
        ep.file_size_bytes = (n + 1) * GB
        ep.total_play_count = 1 if n == 0 else 0
        ep.save()
    (row,) = _page(rule, group_by="show").rows
    assert row.size == 21 * GB
    assert row.plays == 1
    assert row.items == 6
    assert row.title == "Old Show"
    episodes[1].total_play_count = 1
    episodes[1].save()
    assert _page(rule, group_by="show").rows == []  # 2 plays is not fewer than 2


def test_excluded_and_gone_items_never_appear(server, rule):
    show, seasons, episodes = _old_show(server)
    movie = factories.item(server=server, added_at=days_ago(90))
    gone = factories.item(server=server, added_at=days_ago(90), removed_at=days_ago(1))
    Exclusion.objects.create(
        server=server,
        level=Level.EPISODE,
        plex_id=episodes[0].plex_id,
        season_plex_id=seasons[0].plex_id,
        show_plex_id=show.plex_id,
    )
    assert _refs(_page(rule)) == {(Level.MOVIE, movie.plex_id)}
    assert (Level.MOVIE, gone.plex_id) not in _refs(_page(rule, group_by="movie"))
    # The protected episode blocks its season and show, not the other season.
    assert _refs(_page(rule, group_by="season")) == {(Level.SEASON, seasons[1].plex_id)}
    assert (Level.EPISODE, episodes[0].plex_id) not in _refs(_page(rule, group_by="episode"))
    # Gone episodes are not counted in their show.
    Exclusion.objects.all().delete()
    episodes[0].removed_at = days_ago(1)
    episodes[0].save()
    (row,) = _page(rule, group_by="show").rows
    assert row.items == 5


@pytest.mark.parametrize("level", [Level.SEASON, Level.SHOW])
def test_a_protected_season_or_show_hides_everything_inside_and_above(server, rule, level):
    """Each hierarchy check the page keeps for the levels present (queries.blocking_levels)."""
    show, seasons, episodes = _old_show(server)
    other, _, other_episodes = _old_show(server, title="Other Show")
    key = seasons[0].plex_id if level == Level.SEASON else show.plex_id
    Exclusion.objects.create(
        server=server,
        level=level,
        plex_id=key,
        season_plex_id=key if level == Level.SEASON else None,
        show_plex_id=show.plex_id,
    )
    assert _refs(_page(rule, group_by="show")) == {(Level.SHOW, other.plex_id)}
    kept = {(Level.SEASON, s.plex_id) for s in seasons[1:]} if level == Level.SEASON else set()
    own = {(Level.SEASON, s.plex_id) for s in seasons}
    assert _refs(_page(rule, group_by="season")) & own == kept
    episodes_left = _refs(_page(rule, group_by="episode", sort="size"))
    hidden = [e for e in episodes if level == Level.SHOW or e.parent_plex_id == key]
    assert hidden and not {(Level.EPISODE, e.plex_id) for e in hidden} & episodes_left
    assert {(Level.EPISODE, e.plex_id) for e in other_episodes} <= episodes_left


def test_expired_exclusion_no_longer_protects(server, rule):
    movie = factories.item(server=server, added_at=days_ago(90))
    Exclusion.objects.create(
        server=server, level=Level.MOVIE, plex_id=movie.plex_id, until=days_ago(2).date()
    )
    assert _refs(_page(rule)) == {(Level.MOVIE, movie.plex_id)}


def test_open_request_hides_the_group_and_its_children(server, rule, admin_user):
    show, _, _ = _old_show(server)
    DeletionRequest.objects.create(
        server=server,
        level=Level.SHOW,
        plex_id=show.plex_id,
        show_plex_id=show.plex_id,
        approved_at=days_ago(0),
    )
    for group_by in ("show", "season", "episode"):
        assert _refs(_page(rule, group_by=group_by)) == set()


def test_sorting_and_paging_are_stable(server, rule):
    movies = [factories.item(server=server, added_at=days_ago(90)) for _ in range(7)]
    for m in movies[:3]:
        m.file_size_bytes = 5 * GB
        m.save()
    seen = []
    for page in (1, 2, 3):
        result = candidate_page_get(f=CandidateFilter(rule=rule), page=page, per_page=3)
        seen += [c.plex_id for c in result.rows]
    assert result.total_count == 7
    assert result.total_bytes == (3 * 5 + 4) * GB
    big = sorted(m.plex_id for m in movies[:3])
    small = sorted(m.plex_id for m in movies[3:])
    assert seen == big + small  # size desc, then the stable key
    by_added = candidate_page_get(f=CandidateFilter(rule=rule, sort="added"), per_page=10)
    assert len({c.plex_id for c in by_added.rows}) == 7


def test_never_synced_history_means_no_candidates(plex_server, rule):
    factories.item(server=plex_server, added_at=days_ago(90))
    page = _page(rule)
    assert page.rows == []
    assert plex_server.name in page.history.blocked


def test_failed_history_sync_means_no_candidates(plex_server, rule):
    history_synced(plex_server, error="Tautulli unreachable")
    factories.item(server=plex_server, added_at=days_ago(90))
    page = _page(rule)
    assert page.rows == []
    assert "failed" in page.history.blocked[plex_server.name]


def test_item_added_before_history_starts_counts_as_watched_then(plex_server, rule):
    tautulli = history_synced(plex_server, history_days=5)
    movie = factories.item(server=plex_server, added_at=days_ago(400))
    assert _page(rule).rows == []  # possibly watched 5 days ago: not idle 15 days
    Play.objects.filter(tautulli=tautulli).update(started=days_ago(60))
    (row,) = _page(rule).rows
    assert row.plex_id == movie.plex_id
    assert row.watch_is_assumed and row.last_watched is None and row.days_since_watched == 60


def test_history_without_plays_starts_at_its_first_sync(plex_server, rule):
    tautulli = history_synced(plex_server)
    Play.objects.filter(tautulli=tautulli).delete()
    factories.item(server=plex_server, added_at=days_ago(400))
    assert _page(rule).rows == []  # Tautulli knows nothing yet: possibly watched today


def test_rule_sections_and_media_types(server, rule):
    movies_a = factories.section(server=server)
    movies_b = factories.section(server=server)
    in_a = factories.item(server=server, section=movies_a, added_at=days_ago(90))
    factories.item(server=server, section=movies_b, added_at=days_ago(90))
    show, _, _ = _old_show(server)
    rule.sections.add(movies_a)
    assert _refs(_page(rule)) == {(Level.MOVIE, in_a.plex_id)}
    rule.sections.clear()
    rule.include_movies = False
    rule.save()
    assert _refs(_page(rule)) == {(Level.SHOW, show.plex_id)}


def test_rule_minimum_size_and_never_watched_filter(server, rule):
    big = factories.item(server=server, added_at=days_ago(90), file_size_bytes=5 * GB)
    factories.item(server=server, added_at=days_ago(90), file_size_bytes=GB // 2)
    watched = factories.item(
        server=server,
        added_at=days_ago(90),
        file_size_bytes=6 * GB,
        last_watched_at=days_ago(40),
        total_play_count=1,
    )
    assert _refs(_page(rule, min_size_gb=Decimal("4"))) == {
        (Level.MOVIE, big.plex_id),
        (Level.MOVIE, watched.plex_id),
    }
    assert _refs(_page(rule, min_size_gb=Decimal("4"), never_watched=True)) == {
        (Level.MOVIE, big.plex_id)
    }


def test_default_rule_migration_runs_twice_without_duplicating():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("deletion.migrations.0002_default_rule")
    migration.create_default_rule(apps, None)
    migration.create_default_rule(apps, None)
    assert DeletionRule.objects.filter(name=migration.DEFAULT_RULE).count() == 1


@pytest.mark.parametrize("group_by", [Level.EPISODE, Level.MOVIE])
@pytest.mark.parametrize("filters", [{}, {"min_size_gb": Decimal("3")}, {"never_watched": True}])
def test_totals_and_pages_match_a_brute_force_count(server, rule, group_by, filters):
    """The totals (window aggregates on PostgreSQL, a second read on SQLite) equal a count
    of the rows in Python, on every page, and the pages hold each row once, in order."""
    items = []
    if group_by == Level.EPISODE:
        for n in range(3):
            items += _old_show(server, title=f"Show {n}", seasons=2, episodes=2)[2]
    else:
        items = [factories.item(server=server, added_at=days_ago(90)) for _ in range(12)]
    for n, it in enumerate(items):
        it.file_size_bytes = (n % 5 + 1) * GB
        it.total_play_count, it.last_watched_at = (1, days_ago(40)) if n % 3 == 0 else (0, None)
        if n % 7 == 6:  # watched yesterday or added within grace: not a candidate
            it.last_watched_at, it.added_at = days_ago(1), days_ago(3 if n % 2 else 200)
        it.save()
    want = [
        it
        for it in items
        if it.added_at < days_ago(30)
        and (it.last_watched_at is None or it.last_watched_at < days_ago(15))
        and it.file_size_bytes >= filters.get("min_size_gb", 0) * GB
        and not (filters.get("never_watched") and it.total_play_count)
    ]
    want.sort(key=lambda it: (-it.file_size_bytes, it.plex_id))
    seen, f = [], CandidateFilter(rule=rule, group_by=group_by, **filters)
    for number in range(1, 5):
        page = candidate_page_get(f=f, page=number, per_page=4)
        assert (page.total_count, page.total_bytes) == (
            len(want),
            sum(it.file_size_bytes for it in want),
        )
        seen += [c.plex_id for c in page.rows] if page.page == number else []
    assert seen == [it.plex_id for it in want]


@pytest.mark.parametrize("group_by", [Level.EPISODE, Level.MOVIE])
@pytest.mark.parametrize("sort", list(SORTS))
def test_every_sort_pages_rows_in_order_with_their_numbers(server, rule, group_by, sort):
    """Episodes and movies (one row per group; PostgreSQL sorts their keys first and reads
    the page's rows again by key): every sort, tied values broken by the group's key, each
    row's numbers those of its item, whatever the page."""
    if group_by == Level.EPISODE:
        items = []
        for n in range(2):
            items += _old_show(server, title=f"Show {n}", seasons=2, episodes=3)[2]
    else:
        items = [factories.item(server=server) for _ in range(12)]
    for n, it in enumerate(items):  # few distinct values: ties everywhere
        it.file_size_bytes, it.added_at = (n % 3 + 1) * GB, days_ago(100 + n % 4 * 10)
        it.total_play_count, it.last_watched_at = (1, days_ago(40 + n % 2)) if n % 3 else (0, None)
        it.save()
    never = datetime(1970, 1, 1, tzinfo=UTC)
    value = {
        "size": lambda it: it.file_size_bytes,
        "watched": lambda it: it.last_watched_at or never,
        "added": lambda it: it.added_at,
        "plays": lambda it: it.total_play_count,
    }[SORTS[sort][0].lstrip("-").removesuffix("_sort")]
    descending = SORTS[sort][0].startswith("-")
    want = sorted(items, key=lambda it: it.plex_id)
    want.sort(key=value, reverse=descending)  # stable: ties keep the key order
    seen, f = [], CandidateFilter(rule=rule, group_by=group_by, sort=sort)
    for number in range(1, 5):
        page = candidate_page_get(f=f, page=number, per_page=4)
        assert (page.total_count, page.total_bytes) == (
            len(items),
            sum(it.file_size_bytes for it in items),
        )
        seen += page.rows if page.page == number else []
    assert [c.plex_id for c in seen] == [it.plex_id for it in want]
    for c, it in zip(seen, want, strict=True):
        assert (c.level, c.size, c.added, c.last_watched, c.plays, c.items) == (
            group_by,
            it.file_size_bytes,
            it.added_at,
            it.last_watched_at,
            it.total_play_count,
            1,
        )
        assert c.title == it.title and c.rule_id == rule.pk
