"""media 0007 changes what media_items' stored numbers of ignored accounts mean (their
newest watch becomes everyone else's): the record of whose numbers they are is dropped, so
the page joins the rollup until they are recomputed, never reading the old values as new."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from media.models import SystemConfig
from syncing.services.ignored_numbers import USERS_KEY, ignored_numbers_users

pytestmark = pytest.mark.django_db(transaction=True)


def test_upgrading_drops_the_record_of_the_stored_numbers():
    call_command("migrate", "media", "0006", stdout=StringIO(), verbosity=0)
    SystemConfig.objects.update_or_create(key=USERS_KEY, defaults={"value": [149]})
    assert ignored_numbers_users() == (149,)

    call_command("migrate", stdout=StringIO(), verbosity=0)

    assert ignored_numbers_users() is None  # recomputed by the next sync or rule change
