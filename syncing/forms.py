"""Admin forms of the connections SmartPlex syncs from (keys masked, kept when blank)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms

from media.forms import SecretKeepingForm, connection_form
from syncing.models import ArrServer, SeerrServer, TautulliServer

TautulliServerForm = connection_form(
    TautulliServer, ["name", "base_url", "api_key", "plex_server", "enabled"]
)
SeerrServerForm = connection_form(SeerrServer, ["name", "base_url", "api_key", "enabled"])


class ArrServerForm(SecretKeepingForm):
    """A Radarr/Sonarr connection; the key is masked and kept when left blank."""

    secret_fields = ("api_key",)

    class Meta:
        model = ArrServer
        fields = ["kind", "name", "base_url", "api_key", "plex_server", "path_mappings", "enabled"]

    def clean_base_url(self) -> str:
        value = (self.cleaned_data.get("base_url") or "").strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise forms.ValidationError("Give the address as http(s)://host:port.")
        return value

    def clean_path_mappings(self) -> list[list[str]]:
        value = self.cleaned_data.get("path_mappings") or []
        pairs_ok = isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) and s for s in p)
            for p in value
        )
        if not pairs_ok:
            raise forms.ValidationError(
                'Give a list of [arr prefix, Plex prefix] pairs, e.g. [["/movies", "/data/movies"]].'
            )
        return value
