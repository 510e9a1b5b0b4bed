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


def test_secret_is_stable_and_accepted_in_query_string(client):
    assert webhook_secret_get() == webhook_secret_get()
    response = client.post(
        f"{URL}?secret={webhook_secret_get()}", data="{}", content_type="application/json"
    )
    assert response.status_code == 400  # authenticated, then the body is checked
