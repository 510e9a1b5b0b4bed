"""The candidates page's one-pass SQL for several rules (deletion.queries.rules_pass) against
the per-rule UNION it replaced (candidate_groups, one aggregation per rule, deduplicated to
the first matching rule): same groups, same rule, same numbers, at every level and sort.

Library (from tests.test_people_rules' fixtures): "Harbor" (10 episodes, TV section), two
movies (Movies section), all added 200 days ago. Plays through the Tautulli simulator:
Ann and the guest on Harbor's episodes (the guest last on some, alone on others), the guest
alone on a movie; Bob (history on) on another episode. Ann requested Harbor (Seerr).
"""

from __future__ import annotations

import pytest

from deletion.groups import CandidateFilter
from deletion.history import history_state_get
from deletion.models import DeletionRule, Level
from deletion.queries import candidate_groups, page_parts, page_rows
from deletion.selectors import candidate_page_get
from syncing.models import TautulliUser
from syncing.services.seerr_sync import seerr_sync
from tests.tautulli_helpers import target_of, utc
from tests.test_people_rules import _rule, _sync, lib, tautulli  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

COLUMNS = ("level", "server_id", "group_plex_id", "items", "size", "plays", "rule_id")
DATES = ("added", "last_watched", "assumed_watched")


@pytest.fixture
def played(sim, lib, tautulli, seerr_sim, seerr_server):  # noqa: F811
    """Plays where ignoring the guest changes plays, last watch and idleness."""
    sim.set_user("bob", friendly_name="Bob", email="bob@example.test")
    episodes = lib["episodes"]
    for n, episode in enumerate(episodes[:6]):
        sim.add_play(target=target_of(episode), user="ann", started=utc(60 + n))
    for episode in episodes[2:5]:  # the guest watched last on episodes Ann watched
        sim.add_play(target=target_of(episode), user="guest", started=utc(3))
    for episode in episodes[7:9]:  # and alone on others
        sim.add_play(target=target_of(episode), user="guest", started=utc(5))
        sim.add_play(target=target_of(episode), user="guest", started=utc(4))
    sim.add_play(target=target_of(episodes[9]), user="bob", started=utc(50))
    for episode in episodes[:2]:
        sim.add_play(target=target_of(episode), user="bob", started=utc(70))
    sim.add_play(target=target_of(lib["movie"]), user="guest", started=utc(2))
    ann = seerr_sim.add_user(email="ann@example.test", plex_username="ann")
    seerr_sim.add_request(user=ann, media_type="tv", tmdb_id=1, tvdb_id=555, created=utc(100))
    seerr_sync(seerr=seerr_server)
    _sync(tautulli)
    return lib


def _users(*names: str) -> list[TautulliUser]:
    return list(TautulliUser.objects.filter(username__in=names))


def _comparable(rows: list[dict]) -> list[tuple]:
    """Rows as plain tuples (dates as aware datetimes via the page's own reading)."""
    from deletion.queries import _aware

    return sorted(tuple(r[c] for c in COLUMNS) + tuple(_aware(r[d]) for d in DATES) for r in rows)


def _both(f: CandidateFilter) -> tuple[list[tuple], list[tuple]]:
    history = history_state_get()
    one_pass = page_rows(page_parts(f=f, history=history), f.sort, 1000, 0)
    per_rule = page_rows(candidate_groups(f=f, history=history), f.sort, 1000, 0, dedupe=True)
    return _comparable(one_pass), _comparable(per_rule)


def _rules(lib) -> list[DeletionRule]:  # noqa: F811
    requester = _rule("Requester", requester_watched="required", max_plays=2)
    requester.sections.add(lib["tv"])
    guest = _rule("Ignore guest", max_plays=2, inactivity_days=10)
    guest.ignore_users.set(_users("guest"))
    both = _rule("Ignore guest and Bob", max_plays=10, grace_days=10)
    both.ignore_users.set(_users("guest", "bob"))
    movies = _rule("Old movies", max_plays=1)
    movies.sections.add(lib["movies"])
    return [requester, guest, both, movies]


@pytest.mark.parametrize("group_by", ["", "show", "season", "episode", "movie"])
@pytest.mark.parametrize("sort", ["size", "watched", "-plays"])
def test_one_pass_matches_the_per_rule_union(played, group_by, sort):
    rules = _rules(played)
    for order in (rules, rules[::-1], rules[1:3]):
        f = CandidateFilter(rules=tuple(order), group_by=group_by, sort=sort)
        one_pass, per_rule = _both(f)
        assert one_pass == per_rule
        assert one_pass  # the comparison is not vacuous


@pytest.mark.parametrize("group_by", ["show", "episode", "movie"])
def test_one_pass_with_never_watched_and_a_size_floor(played, group_by):
    rules = _rules(played)
    for extra in ({"never_watched": True}, {"min_size_gb": 1}):
        f = CandidateFilter(rules=tuple(rules), group_by=group_by, **extra)
        one_pass, per_rule = _both(f)
        assert one_pass == per_rule


@pytest.mark.parametrize("group_by", ["show", "season", "episode"])
def test_one_pass_inside_one_season(played, group_by):
    season = played["episodes"][0]
    f = CandidateFilter(
        rules=tuple(_rules(played)),
        group_by=group_by,
        season=(season.server_id, season.parent_plex_id),
    )
    one_pass, per_rule = _both(f)
    assert one_pass == per_rule


@pytest.mark.parametrize("group_by", ["show", "season", "episode"])
def test_one_pass_with_two_requests_on_one_show(played, seerr_sim, seerr_server, group_by):
    """Bob requested Harbor too: an episode is free only once both requesters watched it
    (Bob watched the first two, Ann the first six)."""
    bob = seerr_sim.add_user(email="bob@example.test", plex_username="bob")
    seerr_sim.add_request(user=bob, media_type="tv", tmdb_id=1, tvdb_id=555, created=utc(90))
    seerr_sync(seerr=seerr_server)
    rules = _rules(played)
    requester = rules[0]
    requester.max_plays = 5
    requester.save()
    f = CandidateFilter(rules=tuple(rules), group_by=group_by)
    one_pass, per_rule = _both(f)
    assert one_pass == per_rule
    if group_by == "episode":
        mine = {r[2] for r in one_pass if r[6] == requester.pk}
        assert mine == {e.plex_id for e in played["episodes"][:2]}


def test_an_ignored_user_who_watched_last_on_the_episode_page(played):
    """Episode 3: Ann 62 days ago, the guest 3 days ago. Ignoring the guest, it is idle
    with Ann's play and her last watch; the rule named is the guest rule."""
    guest = _rule("Ignore guest", max_plays=2, inactivity_days=10)
    guest.ignore_users.set(_users("guest"))
    _rule("Everyone", max_plays=5, inactivity_days=10)
    episode = played["episodes"][2]
    page = candidate_page_get(f=CandidateFilter(rules=tuple(DeletionRule.objects.order_by("pk")), group_by="episode"), per_page=100)  # fmt: skip
    row = {(c.level, c.plex_id): c for c in page.rows}[(Level.EPISODE, episode.plex_id)]
    assert (row.rule_name, row.plays, row.last_watched) == ("Ignore guest", 1, utc(62))


def test_two_rules_scoped_to_different_libraries_on_the_episode_page(played):
    tv = _rule("Old TV", max_plays=1000, inactivity_days=1)
    tv.sections.add(played["tv"])
    movies = _rule("Old movies", max_plays=1000, inactivity_days=1)
    movies.sections.add(played["movies"])
    f = CandidateFilter(rules=(movies, tv), group_by="episode")
    page = candidate_page_get(f=f, per_page=100)
    assert {c.rule_name for c in page.rows} == {"Old TV"}
    assert len(page.rows) == 10
    one_pass, per_rule = _both(f)
    assert one_pass == per_rule
