"""The "Deletion approver" group created by migrate: enough for every page an approver
uses (the queue and the history too), and nothing that executes or changes settings."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver(django_user_model) -> Client:
    user = django_user_model.objects.create_user("ann", password="pw-ann-1234", is_staff=True)
    user.groups.add(Group.objects.get(name="Deletion approver"))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url_name",
    [
        "deletion:candidates",
        "deletion:plan",
        "deletion:queue",
        "deletion:history",
        "admin:media_mediaitem_changelist",
        "admin:deletion_exclusion_changelist",
        "admin:deletion_auditlog_changelist",
    ],
)
def test_approver_opens_every_page_of_the_approval_workflow(approver, url_name):
    assert approver.get(reverse(url_name)).status_code == 200


def test_approver_may_approve_but_not_execute_nor_change_settings(approver):
    page = approver.post(reverse("deletion:action"), {"action": "approve", "refs": ["movie:1:1"]})
    assert page.status_code == 302  # allowed (nothing to approve: a message says so)
    assert approver.post(reverse("deletion:execute")).status_code == 403
    assert approver.get(reverse("deletion:settings")).status_code == 403
