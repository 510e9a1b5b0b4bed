"""Forms of the library app: connections with masked secrets."""

from __future__ import annotations

from django import forms
from django.db import models

from media.models import PlexServer


class SecretInput(forms.PasswordInput):
    """Never renders the stored secret back into the page."""

    def __init__(self, attrs=None):
        super().__init__(
            attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False
        )


class SecretKeepingForm(forms.ModelForm):
    """A blank secret field on edit keeps the stored value (the page never shows it)."""

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            field = self.fields[name]
            field.widget = SecretInput()
            if self.instance.pk:
                field.required = False
                field.help_text = "Stored. Leave blank to keep the current value."

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_fields:
            if self.instance.pk and not cleaned.get(name):
                cleaned[name] = getattr(self.instance, name)
        return cleaned


def connection_form(
    model: type[models.Model], fields: list[str], *, secret: str = "api_key"
) -> type[SecretKeepingForm]:
    """The admin form of a connection (Plex, Tautulli, Seerr, …): `fields`, its `secret`
    masked and kept when left blank."""
    meta = type("Meta", (), {"model": model, "fields": fields})
    attrs = {"Meta": meta, "secret_fields": (secret,), "__module__": model.__module__}
    return type(f"{model.__name__}Form", (SecretKeepingForm,), attrs)


PlexServerForm = connection_form(
    PlexServer, ["name", "base_url", "token", "enabled"], secret="token"
)
