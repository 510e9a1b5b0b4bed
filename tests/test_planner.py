"""The planner on hand-built libraries: reaching a target, the hierarchy, exclusions,
shortfall, approval, and the plan's invariants over many generated pools."""

from __future__ import annotations

import itertools
import random

import pytest
from django.core.cache import cache
from django.urls import reverse

from deletion.models import AuditLog, DeletionRequest, DeletionRule, Level
from deletion.planner import Option, PlanTarget, plan_choose, plan_get
from deletion.services import candidates_approve, groups_protect
from media.formatting import GB
from media.services import storage_capacity_set
from tests import factories
from tests.deletion_fixtures import days_ago, history_synced

pytestmark = pytest.mark.django_db

OLD = {"added_at": days_ago(300), "last_watched_at": days_ago(200)}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def server(plex_server):
    history_synced(plex_server)
    return plex_server


@pytest.fixture
def planner(make_staff):
    return make_staff("deletion.view_candidates", "deletion.approve_deletion")


def _movies(server, sizes_gb: list[int]):
    return [
        factories.item(server=server, title=f"Movie {gb} GB", file_size_bytes=gb * GB, **OLD)
        for gb in sizes_gb
    ]


def _refs(plan) -> set[tuple[str, int, int]]:
    return {e.ref for e in plan.entries}


def test_biggest_first_reaches_the_target_with_the_fewest_bytes_over(server):
    sizes = [8, 6, 5, 3]
    _movies(server, sizes)
    plan = plan_get(target=PlanTarget(free_gb=10), ordering="size")
    assert plan.reached and plan.need_bytes == 10 * GB
    sums = [
        sum(combo)
        for n in range(1, len(sizes) + 1)
        for combo in itertools.combinations(sizes, n)
        if sum(combo) >= 10
    ]
    assert plan.freed_bytes == min(sums) * GB == 11 * GB
    assert [e.cumulative_bytes for e in plan.entries] == [8 * GB, 11 * GB]


def test_a_show_and_its_season_are_never_both_planned_and_levels_mix(server):
    idle, _, _ = factories.show_tree(server=server, title="Idle", seasons=2, episodes=3, **OLD)
    mixed, seasons, episodes = factories.show_tree(server=server, title="Half", **OLD)
    for ep in episodes[3:]:  # season 2 of "Half" is being watched: only season 1 is idle
        ep.last_watched_at = days_ago(1)
        ep.save()
    for order, gb in itertools.product(("score", "size", "idle"), (1, 3, 4, 6, 7, 9, 50)):
        plan = plan_get(target=PlanTarget(free_gb=gb), ordering=order)
        refs = _refs(plan)
        shows = {key for lv, _, key in refs if lv == Level.SHOW}
        for e in plan.entries:
            if e.candidate.level == Level.SEASON:
                assert e.candidate.show_plex_id not in shows, (order, gb)
        assert (Level.SHOW, server.pk, mixed.plex_id) not in refs
    everything = plan_get(target=PlanTarget(free_gb=9), ordering="score")
    assert _refs(everything) == {
        (Level.SHOW, server.pk, idle.plex_id),
        (Level.SEASON, server.pk, seasons[0].plex_id),
    }


def test_protected_and_approved_groups_never_appear(server, staff_user):
    protected, _, _ = factories.show_tree(server=server, title="Kept", **OLD)
    approved = _movies(server, [4])[0]
    free = _movies(server, [2])[0]
    groups_protect(refs=[(Level.SHOW, server.pk, protected.plex_id)], user=staff_user)
    rule = DeletionRule.objects.get()
    candidates_approve(
        refs=[(Level.MOVIE, server.pk, approved.plex_id)], user=staff_user, rule=rule
    )
    plan = plan_get(target=PlanTarget(free_gb=100), ordering="size")
    assert _refs(plan) == {(Level.MOVIE, server.pk, free.plex_id)}


def test_an_unreachable_target_says_how_far_it_falls_short(server, planner):
    _movies(server, [3, 2])
    response = planner.get(reverse("deletion:plan"), {"free_gb": "10"})
    plan = response.context["plan"]
    assert not plan.reached and plan.freed_bytes == 5 * GB and plan.shortfall_bytes == 5 * GB
    html = response.content.decode()
    assert 'data-testid="plan-shortfall"' in html and "5.0\xa0GB short" in html


def test_a_percentage_target_counts_approved_space_as_freed(server, staff_user, planner):
    storage_capacity_set(total_gb=20)
    movies = _movies(server, [6, 4, 2])  # 12 GB used = 60 %
    candidates_approve(
        refs=[(Level.MOVIE, server.pk, movies[2].plex_id)],
        user=staff_user,
        rule=DeletionRule.objects.get(),
    )
    response = planner.get(reverse("deletion:plan"), {"target_used_percent": "40", "order": "size"})
    plan = response.context["plan"]
    assert plan.need_bytes == 2 * GB  # 12 − 2 approved − 8 (40 % of 20)
    assert _refs(plan) == {(Level.MOVIE, server.pk, movies[1].plex_id)}
    assert plan.after_percent == 30


def test_a_percentage_without_capacity_is_a_clear_error(server, planner):
    response = planner.get(reverse("deletion:plan"), {"target_used_percent": "50"})
    assert response.status_code == 200
    assert "capacity is not set" in response.context["error"]


def test_the_form_wants_exactly_one_target(planner):
    response = planner.get(reverse("deletion:plan"), {"free_gb": "5", "target_used_percent": "50"})
    assert response.context["plan"] is None
    assert "either a size to free or a target percentage" in response.content.decode()


def test_approving_a_plan_creates_exactly_its_requests_and_audit_rows(server, planner):
    factories.show_tree(server=server, title="Gone Show", **OLD)
    _movies(server, [5, 1])
    plan = planner.get(reverse("deletion:plan"), {"free_gb": "7"}).context["plan"]
    picks = [e.pick for e in plan.entries]
    assert len(picks) >= 2
    response = planner.post(reverse("deletion:plan_approve"), {"picks": picks})
    assert response.status_code == 302 and response.url == reverse("deletion:queue")
    requested = set(DeletionRequest.objects.values_list("level", "server_id", "plex_id"))
    assert requested == _refs(plan)
    audited = AuditLog.objects.filter(action=AuditLog.Action.APPROVE)
    assert set(audited.values_list("level", "server_id", "plex_id")) == _refs(plan)
    assert audited.count() == len(picks)
    again = plan_get(target=PlanTarget(free_gb=7))
    assert not _refs(again) & _refs(plan)


def test_planner_permissions(server, make_staff):
    _movies(server, [2])
    viewer = make_staff("deletion.view_candidates")
    assert viewer.get(reverse("deletion:plan"), {"free_gb": "1"}).status_code == 200
    pick = f"{DeletionRule.objects.get().pk}:movie:{server.pk}:1"
    assert viewer.post(reverse("deletion:plan_approve"), {"picks": [pick]}).status_code == 403
    assert make_staff().get(reverse("deletion:plan")).status_code == 403
    assert viewer.get(reverse("deletion:plan_approve")).status_code == 405
    assert not DeletionRequest.objects.exists()


def _random_pool(rng: random.Random) -> list[Option]:
    pool = []
    for show in range(rng.randint(0, 6)):
        show_ref = (Level.SHOW, 1, 1000 + show)
        seasons = [rng.randint(1, 40) * GB for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.7:
            pool.append(Option(show_ref, sum(seasons), rng.randint(0, 900), [], {}))
        for n, size in enumerate(seasons):
            if rng.random() < 0.6:
                ref = (Level.SEASON, 1, 10_000 + 10 * show + n)
                pool.append(Option(ref, size, rng.randint(0, 900), [], {}, show=show_ref))
    for movie in range(rng.randint(0, 10)):
        pool.append(
            Option((Level.MOVIE, 1, movie), rng.randint(1, 60) * GB, rng.randint(0, 900), [], {})
        )
    return pool


_PREFERENCE = {  # each ordering as the page documents it (ties by ref)
    "score": lambda o: (-o.score, o.ref),
    "size": lambda o: (-o.size, o.ref),
    "idle": lambda o: (-o.idle_days, -o.size, o.ref),
}


@pytest.mark.parametrize("ordering", ["score", "size", "idle"])
def test_plans_reach_their_target_hold_no_superfluous_group_and_respect_the_hierarchy(ordering):
    rng = random.Random(f"plan-{ordering}")
    for _ in range(300):
        pool = _random_pool(rng)
        need = rng.randint(1, 200) * GB
        chosen = plan_choose(pool=pool, need=need, ordering=ordering)
        assert chosen == sorted(chosen, key=_PREFERENCE[ordering])  # the page's order
        freed = sum(o.size for o in chosen)
        shows = {o.ref for o in chosen if o.ref[0] == Level.SHOW}
        assert not any(o.show in shows for o in chosen)
        reachable = _best_possible(pool)
        if reachable >= need:
            assert freed >= need
            assert all(freed - o.size < need for o in chosen)  # nothing can be dropped
        else:
            assert freed == reachable  # short: everything that can go is planned


def _best_possible(pool: list[Option]) -> int:
    """The most a plan can free: per show, the bigger of the show or its planned seasons."""
    seasons: dict = {}
    for o in pool:
        if o.show is not None:
            seasons[o.show] = seasons.get(o.show, 0) + o.size
    shows = {o.ref: o.size for o in pool if o.ref[0] == Level.SHOW}
    total = sum(o.size for o in pool if o.ref[0] == Level.MOVIE)
    for ref in set(shows) | set(seasons):
        total += max(shows.get(ref, 0), seasons.get(ref, 0))
    return total


def test_the_page_names_seasons_with_their_show(server, planner):
    *_, episodes = factories.show_tree(server=server, title="Half", **OLD)
    for ep in episodes[3:]:
        ep.last_watched_at = days_ago(1)
        ep.save()
    html = planner.get(reverse("deletion:plan"), {"free_gb": "1"}).content.decode()
    assert "Half – Season 1" in html and 'data-testid="plan-more"' not in html
