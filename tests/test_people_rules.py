"""Rules that know people, end to end: plays come from the Tautulli simulator and requests
from the Seerr simulator through the real syncs; candidates are read through the page.

Library: a show "Harbor" (10 episodes, TVDB 555) in the TV section, movies in the Movies
section, all added 200 days ago. Ann (Tautulli "ann", ann@example.test) requested Harbor.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from deletion.models import DeletionRequest, DeletionRule, Level
from deletion.selectors import CandidateFilter, candidate_page_get
from syncing.models import SeerrRequest, TautulliServer, TautulliUser
from syncing.services.seerr_sync import seerr_sync
from syncing.services.tautulli_sync import tautulli_history_sync
from tests import factories
from tests.deletion_fixtures import days_ago
from tests.seerr_helpers import seerr_server, seerr_sim
from tests.tautulli_helpers import fast_tautulli, sim, target_of, utc

__all__ = ["fast_tautulli", "seerr_server", "seerr_sim", "sim"]  # fixtures

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
