"""Notification pages: save the target URLs, send a test, and the demo's inbox.

Staff with `notifications.manage_notifications` only; changes are POSTs with CSRF.
"""

from __future__ import annotations

import requests
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from notifications.forms import NotifyUrlsForm
from notifications.services import notify_test
from notifications.targets import notify_urls_set
from smartplex.redirects import redirect_back

PERM = "notifications.manage_notifications"


def _back(request: HttpRequest) -> HttpResponse:
    return redirect_back(request, "admin:index")


@require_POST
@staff_member_required
@permission_required(PERM, raise_exception=True)
def urls_save(request: HttpRequest) -> HttpResponse:
    form = NotifyUrlsForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("urls", []):
            messages.error(request, f"Notification URLs not saved: {error}")
        return _back(request)
    if form.cleaned_data["clear"]:
        notify_urls_set(urls=[])
        messages.success(request, "Notification URLs removed.")
    elif urls := form.cleaned_data["urls"]:
        notify_urls_set(urls=urls)
        messages.success(request, f"{len(urls)} notification URL(s) saved.")
    else:
        messages.info(request, "Notification URLs unchanged.")
    return _back(request)


@require_POST
@staff_member_required
@permission_required(PERM, raise_exception=True)
def test_send(request: HttpRequest) -> HttpResponse:
    deliveries = notify_test()
    if not deliveries:
        messages.warning(request, "No notification URL is configured.")
    for d in deliveries:
        if d.ok:
            messages.success(request, f"Test sent to {d.target.label}.")
        else:
            messages.error(request, f"Test to {d.target.label} failed: {d.error}")
    return _back(request)


@require_GET
@staff_member_required
@permission_required(PERM, raise_exception=True)
def demo_inbox(request: HttpRequest) -> HttpResponse:
    """What the demo's notification receiver got (only in demo mode)."""
    received, error = [], ""
    if settings.DEMO_INBOX_URL:
        try:
            reply = requests.get(settings.DEMO_INBOX_URL, timeout=5)
            reply.raise_for_status()
            received = list(reversed(reply.json()))[:100]
        except (requests.RequestException, ValueError) as exc:
            error = f"The demo receiver did not answer: {type(exc).__name__}"
    else:
        error = "Not in demo mode: messages go to the configured targets."
    context = {
        **admin.site.each_context(request),
        "title": "Demo inbox",
        "received": received,
        "error": error,
    }
    return TemplateResponse(request, "notifications/demo_inbox.html", context)
