"""Storage capacity: set only on the settings page; the page and the typed accessor agree;
bad input is refused. SystemConfig itself is read-only in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media.models import SystemConfig
from media.services import storage_capacity_get

pytestmark = pytest.mark.django_db
URL = reverse("deletion:settings")
CAPS = {"capacity_source": "manual", "dry_run": "on", "max_groups": "10", "max_gb": "50"}


def test_capacity_round_trips_through_the_settings_page(admin_client):
    response = admin_client.post(URL, {**CAPS, "total_gb": "10000"})
    assert response.status_code == 302
    capacity = storage_capacity_get()
    assert capacity.total_gb == 10000
    assert capacity.source == "manual"
    assert capacity.updated_at is not None
    stored = SystemConfig.objects.get(key="storage_capacity_gb").value
    assert stored["total_gb"] == 10000 and stored["source"] == "manual"
    page = admin_client.get(URL)
    assert 'value="10000' in page.content.decode()


@pytest.mark.parametrize("bad", ["-5", "0", "lots", ""])
def test_bad_capacity_gets_a_form_error(admin_client, bad):
    response = admin_client.post(URL, {**CAPS, "total_gb": bad})
    assert response.status_code == 200
    assert response.context["form"].errors["total_gb"]
    assert not SystemConfig.objects.filter(key="storage_capacity_gb").exists()


def test_capacity_needs_the_settings_permission(make_staff):
    client = make_staff("media.view_systemconfig")
    assert client.post(URL, {**CAPS, "total_gb": "5"}).status_code == 403
    assert storage_capacity_get().total_gb is None


def test_system_config_is_read_only_in_the_admin(admin_client):
    row = SystemConfig.objects.create(key="storage_capacity_gb", value={"total_gb": 5})
    assert admin_client.get(reverse("admin:media_systemconfig_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:media_systemconfig_add")).status_code == 403
    change = reverse("admin:media_systemconfig_change", args=[row.pk])
    assert admin_client.post(change, {"key": "x", "value": "{}"}).status_code == 403
    delete = reverse("admin:media_systemconfig_delete", args=[row.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.key == "storage_capacity_gb" and row.value == {"total_gb": 5}


def test_command_sets_and_shows_the_capacity(capsys):
    from django.core.management import CommandError, call_command

    call_command("storage_capacity")
    assert "not set" in capsys.readouterr().out
    call_command("storage_capacity", "2000")
    call_command("storage_capacity", "5", "--if-unset")  # already set: kept
    assert storage_capacity_get().total_gb == 2000
    assert "2000 GB (manual)" in capsys.readouterr().out
    with pytest.raises(CommandError, match="greater than 0"):
        call_command("storage_capacity", "-1")
