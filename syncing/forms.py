from __future__ import annotations

from media.forms import SecretKeepingForm
from syncing.models import TautulliServer


class TautulliServerForm(SecretKeepingForm):
    secret_fields = ("api_key",)

    class Meta:
        model = TautulliServer
        fields = ["name", "base_url", "api_key", "plex_server", "enabled"]
