"""Shared fixtures.

- `staff_user` / `staff_client`: a staff user with no permissions (for refusal tests).
- `make_staff(*perms)`: a logged-in client for a staff user holding exactly `perms`
  ("app_label.codename").
- `plex_server`: a PlexServer row (points nowhere; sync tests use the simulators).
- `notify_target`: a running notification receiver (simulators.notify_target) stored as
  the only notification URL (reached through Apprise's `json://`); its `.messages` list
  what it received.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from notifications.targets import notify_urls_set
from simulators.notify_target import NotifyReceiver
from tests import factories

pytest_plugins = [
    "tests.conftest_plex",
    "tests.conftest_tautulli",
    "tests.conftest_seerr",
    "tests.conftest_arr",
]


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("staff", password="pw-staff-123", is_staff=True)


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def make_staff(django_user_model):
    counter = iter(range(1, 10_000))

    def _make(*perms: str) -> Client:
        user = django_user_model.objects.create_user(
            f"staff{next(counter)}", password="pw-123-staff", is_staff=True
        )
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        client = Client()
        client.force_login(user)
        return client

    return _make


@pytest.fixture
def plex_server(db):
    return factories.plex_server()


@pytest.fixture
def notify_target(db):
    with NotifyReceiver() as receiver:
        notify_urls_set(urls=[receiver.apprise_url])
        yield receiver
