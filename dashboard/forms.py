"""The storage threshold's form (settings → storage threshold)."""

from __future__ import annotations

from django import forms


class ThresholdForm(forms.Form):
    enabled = forms.BooleanField(
        required=False, label="Watch the threshold", help_text="Off by default."
    )
    over_percent = forms.DecimalField(
        label="When used ≥ (%)", min_value=1, max_value=100, max_digits=5, decimal_places=2
    )
    target_percent = forms.DecimalField(
        label="plan down to (%)", min_value=0, max_value=99, max_digits=5, decimal_places=2
    )

    def clean(self):
        data = super().clean()
        over, target = data.get("over_percent"), data.get("target_percent")
        if over is not None and target is not None and target >= over:
            self.add_error("target_percent", "Plan down to a percentage below the threshold.")
        return data
