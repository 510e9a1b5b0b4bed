"""Forms of the library app: connections with masked secrets."""

from __future__ import annotations

from django import forms

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


class PlexServerForm(SecretKeepingForm):
    secret_fields = ("token",)

    class Meta:
        model = PlexServer
        fields = ["name", "base_url", "token", "enabled"]
