"""The dashboard at "/" and the threshold setting: thin callers (staff only)."""

from __future__ import annotations

from dataclasses import asdict

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from dashboard.forms import ThresholdForm
from dashboard.selectors import dashboard_get
from dashboard.threshold import threshold_settings_get, threshold_settings_set, threshold_state_get
from deletion.storage import storage_summary_get


@require_GET
@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Staff see storage and sync health; groups only with the candidates permission."""
    data = dashboard_get()
    return render(request, "dashboard/index.html", {"d": data, "storage": data.storage})


@require_http_methods(["GET", "POST"])
@staff_member_required
@permission_required("deletion.manage_settings", raise_exception=True)
def threshold(request: HttpRequest) -> HttpResponse:
    """The threshold setting ("when used ≥ X %, plan down to Y %"), checked after syncs."""
    current = threshold_settings_get()
    form = ThresholdForm(request.POST or None, initial=asdict(current))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        threshold_settings_set(
            enabled=data["enabled"],
            over_percent=float(data["over_percent"]),
            target_percent=float(data["target_percent"]),
        )
        messages.success(request, "Threshold saved; it is checked after the next sync.")
        return redirect("dashboard:threshold")
    context = {"form": form, "storage": storage_summary_get(), "state": threshold_state_get()}
    return render(request, "dashboard/threshold.html", context)
