"""Repeated failed logins are locked out for a while (django-axes), by address and by user."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_user("boss", password="right-pw-123", is_staff=True)


def _login(password: str, *, username: str = "boss", ip: str = "203.0.113.7") -> int:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
    return response.status_code


def test_thirty_wrong_passwords_then_the_right_one_is_refused(boss, settings):
    codes = [_login(f"wrong-{n}") for n in range(30)]
    assert codes[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(codes[settings.AXES_FAILURE_LIMIT :]) == {429}
    assert _login("right-pw-123") == 429  # locked out: the right password does not get in


def test_one_username_from_many_addresses_is_locked_too(boss):
    for n in range(10):
        _login("wrong", ip=f"198.51.100.{n + 1}")
    assert _login("right-pw-123", ip="192.0.2.200") == 429


def test_one_address_trying_many_usernames_is_locked(boss):
    for n in range(10):
        _login("wrong", username=f"guess{n}", ip="203.0.113.9")
    assert _login("right-pw-123", ip="203.0.113.9") == 429
    assert _login("right-pw-123", ip="203.0.113.10") == 302  # boss from elsewhere: fine


def test_a_few_mistakes_then_the_right_password_logs_in(boss):
    assert [_login("oops"), _login("oops")] == [200, 200]
    assert _login("right-pw-123") == 302
