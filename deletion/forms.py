"""Forms of the deletion pages: bulk actions on candidates, and SmartPlex's settings."""

from __future__ import annotations

import shutil

from django import forms

from deletion.config import MAX_GROUPS, DeletionSettings
from syncing.services.arr_disks import arr_capacity_get


class BulkActionForm(forms.Form):
    """Checked candidate rows ("level:server:key") and what to do with them."""

    ACTIONS = [("approve", "Approve selected"), ("protect", "Protect selected")]

    action = forms.ChoiceField(choices=ACTIONS)
    refs = forms.CharField(required=False)  # the view reads getlist("refs")
    reason = forms.CharField(required=False, max_length=300)
    until = forms.DateField(required=False, widget=forms.DateInput({"type": "date"}))


CAP_HELP = "Above this, execution asks for an explicit confirmation."


def gb_field(**kwargs) -> forms.DecimalField:
    """A size in GB, to the MB, above zero."""
    return forms.DecimalField(min_value=0.001, max_digits=12, decimal_places=3, **kwargs)


def checkbox(**kwargs) -> forms.BooleanField:
    """A switch that may be left off (a plain BooleanField must be ticked to validate)."""
    return forms.BooleanField(required=False, **kwargs)


class SettingsForm(forms.Form):
    capacity_source = forms.ChoiceField(
        choices=[
            ("manual", "Entered by hand"),
            ("disk", "Read from a local path"),
            ("arr", "Radarr/Sonarr disk space"),
        ],
        label="Capacity source",
    )
    total_gb = gb_field(label="Storage capacity (GB)", required=False)
    disk_path = forms.CharField(
        label="Media path",
        required=False,
        max_length=500,
        help_text="A mounted path on this machine (its disk's size is read with disk_usage).",
    )
    dry_run = checkbox(help_text="Execution records what it would delete and calls nothing.")
    max_groups = forms.IntegerField(
        min_value=1,
        max_value=MAX_GROUPS,
        label="Max groups per execution",
        help_text=CAP_HELP,
    )
    max_gb = gb_field(label="Max GB per execution", help_text=CAP_HELP)

    when_not_in_arr = forms.ChoiceField(
        choices=[("plex", "Delete it through Plex"), ("skip", "Skip it")],
        label="A group held by no Radarr/Sonarr",
        required=False,
        help_text="Groups Radarr or Sonarr hold are always deleted through them.",
    )
    leaving_soon_days = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=365,
        label="Days in “Leaving soon”",
        help_text="Between approval and deletion; 0 = due at once.",
    )
    execute_daily = checkbox(
        label="Execute due deletions daily", help_text="Within the caps; dry run is honoured."
    )
    collection_title = forms.CharField(
        required=False,
        max_length=100,
        label="Plex collection title",
        help_text="One per library section.",
    )
    collection_visible = checkbox(
        label="Show the collection on Home",
        help_text="Home, friends' Home and Recommended in Plex.",
    )

    def clean(self):
        data = super().clean()
        data["when_not_in_arr"] = data.get("when_not_in_arr") or "plex"
        if data.get("capacity_source") == "arr":
            capacity = arr_capacity_get()
            if capacity is None:
                self.add_error(
                    "capacity_source", "No Radarr/Sonarr has reported disk space yet: run sync_arr."
                )
            else:
                data["total_gb"] = capacity.total_bytes / 1024**3
        elif data.get("capacity_source") == "disk":
            path = data.get("disk_path") or ""
            try:
                data["total_gb"] = shutil.disk_usage(path).total / 1024**3
            except OSError:
                self.add_error("disk_path", "This path cannot be read on this machine.")
        elif not data.get("total_gb"):
            self.add_error("total_gb", "Enter the capacity, or read it from a path.")
        return data

    @classmethod
    def initial_from(cls, capacity, settings: DeletionSettings) -> dict:
        return {
            "capacity_source": capacity.source if capacity.source in ("disk", "arr") else "manual",
            "total_gb": capacity.total_gb,
            "disk_path": capacity.path,
            "dry_run": settings.dry_run,
            "max_groups": settings.max_groups,
            "max_gb": settings.max_gb,
            "when_not_in_arr": settings.when_not_in_arr,
            "leaving_soon_days": settings.leaving_soon_days,
            "execute_daily": settings.execute_daily,
            "collection_title": settings.collection_title,
            "collection_visible": settings.collection_visible,
        }

    def settings_values(self) -> dict:
        """The cleaned data as smartplex_settings_save() takes it (blank keeps a value)."""
        data = self.cleaned_data
        kept = {
            name: value
            for name in ("leaving_soon_days", "collection_title")
            if (value := data[name]) not in (None, "")
        }
        return kept | {
            "capacity_source": data["capacity_source"],
            "total_gb": float(data["total_gb"]),
            "disk_path": data["disk_path"],
            "dry_run": data["dry_run"],
            "max_groups": data["max_groups"],
            "max_gb": float(data["max_gb"]),
            "execute_daily": data["execute_daily"],
            "collection_visible": data["collection_visible"],
            "when_not_in_arr": data["when_not_in_arr"],
        }


class ExecuteForm(forms.Form):
    confirm_over_cap = checkbox()


class PlanForm(forms.Form):
    """The planner's target: free N GB, or bring used space down to P % (exactly one)."""

    free_gb = gb_field(label="Free (GB)", required=False)
    target_used_percent = forms.DecimalField(
        label="or get down to (% used)",
        required=False,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
    )
    order = forms.ChoiceField(
        label="Ordering",
        required=False,
        choices=[("score", "Score"), ("size", "Biggest first"), ("idle", "Longest unwatched")],
    )

    def clean(self):
        data = super().clean()
        given = [n for n in ("free_gb", "target_used_percent") if data.get(n) is not None]
        if len(given) != 1 and not self.errors:
            raise forms.ValidationError("Give either a size to free or a target percentage.")
        data["order"] = data.get("order") or "score"
        return data
