"""Tautulli webhook: per-install secret, JSON body, small sync enqueued for the item."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from syncing.services.webhooks import webhook_secret_get

pytestmark = pytest.mark.django_db
URL = reverse("syncing:tautulli_webhook")


def _post(client, body, secret=None):
    headers = {"HTTP_X_SMARTPLEX_SECRET": secret} if secret else {}
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.mark.parametrize("secret", [None, "wrong", ""])
def test_wrong_or_missing_secret_is_forbidden(client, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, json.dumps({"rating_key": "12"}), secret)
    assert response.status_code == 403
    assert callbacks == []


@pytest.mark.parametrize(
    "body", ["not json", "{}", '{"rating_key": "abc"}', '{"rating_key": -3}', "[1]"]
)
def test_malformed_body_is_rejected(client, body, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, body, webhook_secret_get())
    assert response.status_code == 400
    assert "rating_key" in response.json()["error"]
    assert callbacks == []


def test_get_is_not_allowed(client):
    assert client.get(URL, {"secret": webhook_secret_get()}).status_code == 405


def test_secret_is_stable_and_refused_in_the_query_string(client):
    """Only the header counts: a query string reaches access logs."""
    assert webhook_secret_get() == webhook_secret_get()
    response = client.post(
        f"{URL}?secret={webhook_secret_get()}", data="{}", content_type="application/json"
    )
    assert response.status_code == 403
    assert _post(client, "{}", webhook_secret_get()).status_code == 400  # header: body checked


def test_unfilled_placeholder_says_the_rating_key_must_be_a_number(client):
    """Tautulli's "Test Notifications" sends the data box as typed, placeholders unfilled."""
    response = _post(client, '{"rating_key": "{rating_key}"}', webhook_secret_get())
    assert response.status_code == 400
    assert "rating_key must be a number" in response.json()["error"]


def test_right_secret_updates_the_items_statistics(client, django_capture_on_commit_callbacks):
    from simulators.tautulli import TautulliSimulator
    from tests import factories
    from tests.tautulli_helpers import target_of, utc

    with TautulliSimulator(api_key="webhook-test-key-1234") as sim:
        tautulli = factories.tautulli_server(base_url=sim.url, api_key=sim.api_key)
        movie = factories.item(server=tautulli.plex_server, type="movie")
        other = factories.item(server=tautulli.plex_server, type="movie")
        sim.add_play(target=target_of(movie), user="alice", started=utc(1), play_seconds=3000)
        sim.add_play(
            target=target_of(movie), user="bob", started=utc(1, hour=20), play_seconds=1200
        )
        sim.add_play(target=target_of(other), user="bob", started=utc(2), play_seconds=900)

        with django_capture_on_commit_callbacks(execute=True):
            response = _post(
                client, json.dumps({"rating_key": str(movie.plex_id)}), webhook_secret_get()
            )

    assert response.status_code == 202
    assert response.json() == {"rating_key": movie.plex_id, "queued": 1}
    movie.refresh_from_db()
    other.refresh_from_db()
    assert (movie.total_play_count, movie.total_watch_time_seconds) == (2, 4200)
    assert movie.last_watched_at == utc(1, hour=20)
    assert other.total_play_count == 0  # only the notified item was synced
