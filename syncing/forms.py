from __future__ import annotations

from media.forms import SecretKeepingForm
from syncing.models import SeerrServer, TautulliServer


class TautulliServerForm(SecretKeepingForm):
    secret_fields = ("api_key",)

    class Meta:
        model = TautulliServer
        fields = ["name", "base_url", "api_key", "plex_server", "enabled"]


class SeerrServerForm(SecretKeepingForm):
    secret_fields = ("api_key",)

    class Meta:
        model = SeerrServer
        fields = ["name", "base_url", "api_key", "enabled"]
