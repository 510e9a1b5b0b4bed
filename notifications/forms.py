"""The notification targets form of the settings page."""

from __future__ import annotations

from django import forms

from notifications.targets import url_problem, urls_split


class NotifyUrlsForm(forms.Form):
    """Blank keeps the stored URLs (they hold secrets and are never shown back)."""

    urls = forms.CharField(
        required=False,
        widget=forms.Textarea({"rows": 3, "placeholder": "discord://webhook_id/webhook_token"}),
        label="Notification URLs",
        help_text="Apprise URLs, one per line. Leave blank to keep the current ones.",
    )
    clear = forms.BooleanField(required=False, label="Remove every URL stored here")

    def clean_urls(self) -> list[str]:
        urls = urls_split(self.cleaned_data["urls"])
        problems = [f"URL {n}: {why}" for n, u in enumerate(urls, 1) if (why := url_problem(u))]
        if problems:
            raise forms.ValidationError(problems)
        return urls
