"""The candidates table's rows (built in Python by deletion.rows) and the rule lines: what
each cell says, escaped, through the page."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils.html import escape

from deletion.models import DeletionRule
from tests import factories
from tests.deletion_fixtures import days_ago, history_synced

pytestmark = pytest.mark.django_db

HOSTILE = '<b>"Bad" & Co</b>'


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def viewer(make_staff):
    return make_staff("deletion.view_candidates")


@pytest.fixture
def server(plex_server):
    history_synced(plex_server)
    return plex_server


def _page(client, **query) -> str:
    response = client.get(reverse("deletion:candidates"), query)
    assert response.status_code == 200
    return response.content.decode()


def test_titles_are_escaped_in_every_cell(viewer, server):
    factories.show_tree(server=server, title=HOSTILE, seasons=1, episodes=1, added_at=days_ago(90))
    factories.item(server=server, title=HOSTILE, added_at=days_ago(90))
    for group_by in ("", "season", "episode"):
        html = _page(viewer, group_by=group_by)
        assert "<b>" not in html and "&lt;b&gt;&quot;Bad&quot; &amp; Co&lt;/b&gt;" in html
        assert 'aria-label="Select &lt;b&gt;&quot;Bad&quot; &amp; Co&lt;/b&gt;' in html


def test_cells_of_a_chosen_rule_show_its_thresholds_and_links_keep_it(viewer, server):
    rule = DeletionRule.objects.get()
    _, seasons, _ = factories.show_tree(
        server=server, title="Drama", seasons=1, episodes=2, added_at=days_ago(200)
    )
    html = _page(viewer, group_by="season", rule=rule.pk)
    link = f'?group_by=episode&amp;season={server.pk}-{seasons[0].plex_id}&amp;rule={rule.pk}"'
    assert link in html and "Drama – " in html
    assert f"(≥ {rule.grace_days})" in html and f"(&lt; {rule.max_plays})" in html
    assert f"<small>(≥ {rule.inactivity_days})</small>" in html
    html = _page(viewer, group_by="episode", rule=rule.pk)
    assert "S01E01 · Drama 1x1" in html and "S01E02 · Drama 1x2" in html
    assert f'<td data-testid="rule-name">{escape(rule.name)}</td>' in html
    assert '<td data-testid="requested-by">—</td>' in html
    assert '<td data-testid="watched-by">—</td>' in html


def test_watched_cells_say_never_or_the_day(viewer, server):
    factories.item(server=server, title="Unseen", added_at=days_ago(90))
    factories.item(server=server, title="Seen", added_at=days_ago(90), last_watched_at=days_ago(40))
    html = _page(viewer, group_by="movie")
    unseen = html[html.index("Select Unseen") :]
    assert unseen.index("<td>never</td>") < unseen.index("</tr>")
    seen = html[html.index("Select Seen") :]
    day = days_ago(40).strftime("%Y-%m-%d")
    assert seen.index(f"<td>{day}</td>") < seen.index("</tr>")
    assert '<td class="num">40 <small>' in seen


def test_rule_lines_name_their_libraries_and_ignored_accounts(viewer, server):
    tautulli = factories.tautulli_server(plex=server)
    guest = tautulli.users.create(user_id=7, username="guest", friendly_name="Guest")
    movies = factories.section(server=server, title="Films")
    first = DeletionRule.objects.get()
    first.sections.add(movies)
    second = DeletionRule.objects.create(name="Second", grace_days=10, inactivity_days=10)
    second.ignore_users.add(guest)
    html = _page(viewer)
    assert f"<strong>{escape(first.name)}</strong> (Films ({server.name}))" in html
    assert "<strong>Second</strong>: " in html and "plays by Guest do not count" in html
