"""Rules that know people, end to end: plays come from the Tautulli simulator and requests
from the Seerr simulator through the real syncs; candidates are read through the page.

Library: a show "Harbor" (10 episodes, TVDB 555) in the TV section, movies in the Movies
section, all added 200 days ago. Ann (Tautulli "ann", ann@example.test) requested Harbor.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from deletion.history import history_state_get
from deletion.models import DeletionRequest, DeletionRule, Level
from deletion.queries import (
    _aware,
    _dict_rows,
    candidate_groups,
    candidate_page_sql,
    page_parts,
    page_rows,
)
from deletion.selectors import CandidateFilter, candidate_page_get
from media.models import MediaItem, SystemConfig
from syncing.models import SeerrRequest, TautulliServer, TautulliUser
from syncing.services.ignored_numbers import USERS_KEY, ignored_numbers_users
from syncing.services.seerr_sync import seerr_sync
from syncing.services.tautulli_sync import tautulli_history_sync
from tests import factories
from tests.deletion_fixtures import days_ago
from tests.tautulli_helpers import target_of, utc

pytestmark = pytest.mark.django_db

VIEW = ("deletion.view_candidates", "deletion.approve_deletion")


@pytest.fixture
def lib(plex_server):
    """Sections, the show, two movies, and an old play that starts Tautulli's history."""
    movies = factories.section(server=plex_server, section_type="movie", title="Movies")
    tv = factories.section(server=plex_server, section_type="show", title="TV")
    old = {"added_at": days_ago(200), "section": tv}
    show, _, episodes = factories.show_tree(
        server=plex_server, title="Harbor", seasons=1, episodes=10, **old
    )
    show.tvdb_id, show.section = "555", tv
    show.save()
    movie = factories.item(
        server=plex_server, title="Quiet Movie", tmdb_id="777", added_at=days_ago(200),
        section=movies,
    )  # fmt: skip
    starter = factories.item(server=plex_server, title="Starter", added_at=days_ago(400))
    DeletionRule.objects.update(enabled=False)  # the migration's default rule: not these tests'
    return {"show": show, "episodes": episodes, "movie": movie, "starter": starter,
            "movies": movies, "tv": tv}  # fmt: skip


@pytest.fixture
def tautulli(sim, lib, plex_server) -> TautulliServer:
    sim.set_user("ann", friendly_name="Ann", email="ann@example.test")
    sim.add_play(target=target_of(lib["starter"]), user="ann", started=utc(300))
    return TautulliServer.objects.create(
        name="T", base_url=sim.url, api_key=sim.api_key, plex_server=plex_server
    )


def _sync(tautulli: TautulliServer) -> None:
    run = tautulli_history_sync(tautulli=tautulli, trigger="test")
    assert run.status == "success", run.error


def _rule(name: str, **kw) -> DeletionRule:
    defaults = {"grace_days": 30, "inactivity_days": 15, "max_plays": 1000}
    return DeletionRule.objects.create(name=name, **{**defaults, **kw})


def _rows(client, **query) -> dict[tuple[str, int], object]:
    response = client.get(reverse("deletion:candidates"), query)
    assert response.status_code == 200
    return {(c.level, c.plex_id): c for c in response.context["page"].rows}


@pytest.fixture
def ann_requested_harbor(seerr_sim, seerr_server):
    ann = seerr_sim.add_user(email="ann@example.test", plex_username="ann")
    seerr_sim.add_request(user=ann, media_type="tv", tmdb_id=1, tvdb_id=555, created=utc(100))
    seerr_sync(seerr=seerr_server)


def test_requested_show_waits_for_its_requester(
    sim, lib, tautulli, ann_requested_harbor, make_staff
):
    rule = _rule("Requester watched", requester_watched="required")
    for episode in lib["episodes"][:9]:
        sim.add_play(target=target_of(episode), user="ann", started=utc(40))
    _sync(tautulli)
    client, show = make_staff(*VIEW), (Level.SHOW, lib["show"].plex_id)
    assert show not in _rows(client, group_by="show")  # 9 of 10 < 100 %

    rule.requester_watched_percent = 80
    rule.save()
    assert show in _rows(client, group_by="show")  # 9 of 10 >= 80 %

    rule.requester_watched_percent = 100
    rule.save()
    sim.add_play(target=target_of(lib["episodes"][9]), user="ann", started=utc(39))
    _sync(tautulli)
    row = _rows(client, group_by="show")[show]
    assert (row.rule_name, row.requested_by, row.watched_by) == (
        "Requester watched",
        ("Ann",),
        ("Ann",),
    )


def test_approval_records_the_rule_the_requester_and_who_watched(
    sim, lib, tautulli, ann_requested_harbor, make_staff
):
    _rule("Requester watched", requester_watched="required")
    for episode in lib["episodes"]:
        sim.add_play(target=target_of(episode), user="ann", started=utc(40))
    _sync(tautulli)
    client = make_staff(*VIEW)
    ref = f"show:{lib['show'].server_id}:{lib['show'].plex_id}"
    client.post(reverse("deletion:action"), {"action": "approve", "refs": [ref]})
    request = DeletionRequest.objects.get()
    assert (request.rule.name, request.rule_name) == ("Requester watched", "Requester watched")
    assert (request.requested_by, request.watched_by) == ("Ann", "Ann")


def test_a_movie_played_only_by_an_ignored_account(sim, lib, tautulli):
    sim.add_play(target=target_of(lib["movie"]), user="guest", started=utc(3))
    _sync(tautulli)
    guest = TautulliUser.objects.get(username="guest")
    ignoring = _rule("Ignore guest", max_plays=1)
    ignoring.ignore_users.add(guest)
    counting = _rule("Everyone", max_plays=1)
    movie = (Level.MOVIE, lib["movie"].plex_id)

    def rows(rule):
        page = candidate_page_get(f=CandidateFilter(rule=rule, group_by="movie"))
        return {(c.level, c.plex_id): c for c in page.rows}

    seen = rows(ignoring)[movie]
    assert (seen.plays, seen.last_watched) == (0, None)  # as if never watched
    assert movie not in rows(counting)  # watched 3 days ago, 1 play


def test_a_requester_with_history_off_is_unknown(
    sim, lib, tautulli, seerr_sim, seerr_server, make_staff
):
    sim.set_user("bob", friendly_name="Bob", email="bob@example.test", keep_history=0)
    bob = seerr_sim.add_user(email="bob@example.test", plex_username="bob")
    seerr_sim.add_request(user=bob, media_type="movie", tmdb_id=777, created=utc(100))
    seerr_sync(seerr=seerr_server)
    _sync(tautulli)
    _rule("Requester watched", requester_watched="required")
    client, movie = make_staff(*VIEW), (Level.MOVIE, lib["movie"].plex_id)

    response = client.get(reverse("deletion:candidates"), {"group_by": "movie"})
    assert movie not in {(c.level, c.plex_id) for c in response.context["page"].rows}
    assert "Bob (history off): history is switched off in Tautulli" in response.content.decode()
    _rule("Plain")  # without the requester condition the movie is a candidate
    assert _rows(client, group_by="movie")[movie].rule_name == "Plain"


def test_requests_match_by_email_when_the_plex_username_differs(
    sim, lib, tautulli, seerr_sim, seerr_server
):
    sim.set_user("carol", friendly_name="Carol", email="carol@example.test")
    _sync(tautulli)
    carol = seerr_sim.add_user(email="Carol@Example.test", plex_username="carol_on_plex")
    seerr_sim.add_request(user=carol, media_type="movie", tmdb_id=777)
    seerr_sync(seerr=seerr_server)
    request = SeerrRequest.objects.select_related("tautulli_user").get()
    assert request.tautulli_user.username == "carol"
    assert (request.server_id, request.plex_id) == (lib["movie"].server_id, lib["movie"].plex_id)


def test_two_rules_scoped_to_different_libraries_name_themselves(lib, tautulli, make_staff):
    _sync(tautulli)
    _rule("Old movies").sections.add(lib["movies"])
    _rule("Old TV").sections.add(lib["tv"])
    rows = _rows(make_staff(*VIEW))
    assert rows[(Level.MOVIE, lib["movie"].plex_id)].rule_name == "Old movies"
    assert rows[(Level.SHOW, lib["show"].plex_id)].rule_name == "Old TV"


def test_a_show_last_watched_by_the_ignored_account_shows_the_others_last_watch(sim, lib, tautulli):
    first, second = lib["episodes"][:2]
    sim.add_play(target=target_of(first), user="ann", started=utc(40))
    sim.add_play(target=target_of(second), user="guest", started=utc(2))
    _sync(tautulli)
    ignoring = _rule("Ignore guest")
    ignoring.ignore_users.add(TautulliUser.objects.get(username="guest"))
    counting = _rule("Everyone")
    show = (Level.SHOW, lib["show"].plex_id)

    def rows(rule):
        page = candidate_page_get(f=CandidateFilter(rule=rule, group_by="show"))
        return {(c.level, c.plex_id): c for c in page.rows}

    seen = rows(ignoring)[show]
    assert (seen.plays, seen.last_watched) == (1, utc(40))  # Ann's play, not the guest's
    assert show not in rows(counting)  # the guest watched two days ago


# --- the one pass for several rules (deletion.queries.pass_sql) against the per-rule UNION
# it replaced (candidate_groups, one aggregation per rule, deduplicated to the first matching
# rule): same groups, same rule, same numbers, at every level and sort.

COLUMNS = ("level", "server_id", "group_plex_id", "items", "size", "plays", "rule_id")
DATES = ("added", "last_watched", "assumed_watched")


@pytest.fixture
def played(sim, lib, tautulli, seerr_sim, seerr_server):
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
    return sorted(tuple(r[c] for c in COLUMNS) + tuple(_aware(r[d]) for d in DATES) for r in rows)


def _both(f: CandidateFilter) -> tuple[list[tuple], list[tuple]]:
    history = history_state_get()
    one_pass = page_rows(page_parts(f=f, history=history), f.sort, 1000, 0)
    per_rule = page_rows(candidate_groups(f=f, history=history), f.sort, 1000, 0, dedupe=True)
    return _comparable(one_pass), _comparable(per_rule)


def _rules(lib) -> list[DeletionRule]:
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


@pytest.mark.parametrize("group_by", ["", "episode", "movie"])
@pytest.mark.parametrize(
    "sort", ["size", "-size", "added", "-added", "watched", "-watched", "plays", "-plays"]
)
@pytest.mark.parametrize("extra", [{}, {"never_watched": True}])
def test_keyed_pages_match_the_whole_pass(sim, tautulli, played, group_by, sort, extra):
    """A page of episodes and movies reads their keys, the totals and (by last watched or
    plays) the numbers it is ordered by first, and which rule and the rest of its numbers
    for its own rows alone (page_rows): page after page the same rows, in the same order,
    with the same totals, as the pass over every group, whatever the rules' order (the
    rule that selects a group decides whose plays count)."""
    for target in (played["episodes"][6], played["movie"]):  # Bob's recent plays count
        sim.add_play(target=target_of(target), user="bob", started=utc(2))  # for one rule
    _sync(tautulli)
    rules = _rules(played)
    twin = _rule("Ignore guest too", max_plays=3, inactivity_days=10)  # the same accounts
    twin.ignore_users.set(_users("guest"))
    compared = 0
    for order in (rules, rules[::-1], [rules[0], rules[1], twin], [twin, rules[1], rules[0]]):
        f = CandidateFilter(rules=tuple(order), group_by=group_by, sort=sort, **extra)
        parts = page_parts(f=f, history=history_state_get())
        whole = _dict_rows(*candidate_page_sql(parts, sort, 1000, 0))
        compared += len(whole)
        per_page, paged = 1 if group_by == "movie" else 3, []
        for offset in range(0, len(whole) + 1, per_page):
            rows = page_rows(parts, sort, per_page, offset)
            assert all((r["total_count"], r["total_bytes"]) == (len(whole), sum(
                w["size"] for w in whole)) for r in rows)  # fmt: skip
            paged += rows
        assert _ordered(paged) == _ordered(whole)
    assert compared  # the comparison is not vacuous


def _ordered(rows: list[dict]) -> list[tuple]:
    return [tuple(r[c] for c in COLUMNS) + tuple(_aware(r[d]) for d in DATES) for r in rows]


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


# --- stored numbers of the ignored accounts (media_items.ignored_*), kept by rule edits and
# the Tautulli syncs, read by the one pass for a rule ignoring exactly the recorded accounts.


def _ignored(lib) -> dict[str, tuple]:
    """Stored (their plays, everyone else's newest watch) of the movie and the episodes the
    ignored accounts played."""
    keys = {"movie": lib["movie"].pk} | {f"e{n}": e.pk for n, e in enumerate(lib["episodes"])}
    found = {
        pk: (plays, last)
        for pk, plays, last in MediaItem.objects.filter(pk__in=keys.values()).values_list(
            "pk", "ignored_plays", "others_last_watched_at"
        )
    }
    return {name: found[pk] for name, pk in keys.items() if found[pk] != (None, None)}


def test_stored_numbers_follow_the_rules_ignored_accounts(played):
    rule = _rule("Ignore guest")
    assert _ignored(played) == {}
    rule.ignore_users.set(_users("guest"))
    # the guest alone played the movie, e7 and e8; watched last on e2-e4 (Ann before)
    guest = {"movie": (1, None), "e2": (1, utc(62)), "e3": (1, utc(63)), "e4": (1, utc(64)),
             "e7": (2, None), "e8": (2, None)}  # fmt: skip
    assert _ignored(played) == guest
    rule.ignore_users.add(*_users("bob"))  # both together: Ann watched e0, e1 after Bob
    bob = {"e0": (1, utc(60)), "e1": (1, utc(61)), "e9": (1, None)}
    assert _ignored(played) == guest | bob
    rule.ignore_users.remove(*_users("guest"))  # a user taken off the list
    assert _ignored(played) == bob
    rule.enabled = False  # a disabled rule ignores nobody
    rule.save()
    assert _ignored(played) == {}
    rule.enabled = True
    rule.save()
    rule.delete()
    assert _ignored(played) == {}


def test_stored_numbers_follow_the_tautulli_syncs(played, sim, tautulli):
    rule = _rule("Ignore guest")
    rule.ignore_users.set(_users("guest"))
    sim.add_play(target=target_of(played["movie"]), user="guest", started=utc(1))
    _sync(tautulli)  # an incremental sync: the items its plays touched
    assert _ignored(played)["movie"] == (2, None)
    MediaItem.objects.update(ignored_plays=99, others_last_watched_at=None)
    run = tautulli_history_sync(tautulli=tautulli, trigger="test", full=True)
    assert run.status == "success", run.error
    after = {"movie": (2, None), "e2": (1, utc(62)), "e3": (1, utc(63)), "e4": (1, utc(64)),
             "e7": (2, None), "e8": (2, None)}  # fmt: skip
    assert _ignored(played) == after
    SystemConfig.objects.filter(key=USERS_KEY).delete()  # as after an upgrade: none recorded
    MediaItem.objects.update(ignored_plays=None, others_last_watched_at=None)
    _sync(tautulli)  # the first sync records the rules' accounts and fills every item
    assert ignored_numbers_users() == tuple(u.user_id for u in _users("guest"))
    assert _ignored(played) == after


@pytest.mark.parametrize("group_by", ["", "episode", "movie"])
@pytest.mark.parametrize("sort", ["size", "watched", "-plays"])
def test_one_pass_reading_stored_numbers_matches_the_per_rule_union(played, group_by, sort):
    """Only the guest rule ignores anyone: its episodes and movies read the stored numbers."""
    requester, guest = _rules(played)[:2]
    DeletionRule.objects.exclude(pk__in=[requester.pk, guest.pk]).delete()
    assert ignored_numbers_users() == tuple(u.user_id for u in _users("guest"))
    for order in ((requester, guest), (guest,)):
        f = CandidateFilter(rules=order, group_by=group_by, sort=sort)
        one_pass, per_rule = _both(f)
        assert one_pass == per_rule
        assert one_pass
