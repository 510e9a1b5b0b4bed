"""HTTP entry points of syncing: the Tautulli webhook and the "Sync now" button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from smartplex.redirects import redirect_back
from syncing.services.operations import sync_now_all
from syncing.services.webhooks import (
    WebhookPayloadError,
    webhook_item_sync_enqueue,
    webhook_payload_parse,
    webhook_secret_matches,
)


@csrf_exempt  # machine-to-machine; authenticated by the per-install secret instead
@require_POST
def tautulli_webhook(request: HttpRequest) -> HttpResponse:
    # Only the header: a secret in the query string would be written to access logs.
    if not webhook_secret_matches(request.headers.get("X-SmartPlex-Secret")):
        return JsonResponse({"error": "forbidden"}, status=403)
    try:
        plex_id = webhook_payload_parse(request.body)
    except WebhookPayloadError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    queued = webhook_item_sync_enqueue(plex_id=plex_id)
    return JsonResponse({"rating_key": plex_id, "queued": queued}, status=202)


def sync_now_message(queued, refused):
    """One message per outcome, linking each run to its admin page."""
    links = format_html_join(
        ", ",
        '<a href="{}">{} #{}</a>',
        (
            (reverse("admin:syncing_syncrun_change", args=[r.pk]), r.get_kind_display(), r.pk)
            for r in queued
        ),
    )
    parts = []
    if queued:
        parts.append((messages.SUCCESS, format_html("Sync queued: {}.", links)))
    for exc in refused:
        link = (
            format_html(
                ' <a href="{}">See the run.</a>',
                reverse("admin:syncing_syncrun_change", args=[exc.run.pk]),
            )
            if exc.run
            else ""
        )
        parts.append((messages.WARNING, format_html("{}{}", str(exc), link)))
    if not queued and not refused:
        parts.append((messages.WARNING, "Nothing to sync: no enabled Plex or Tautulli server."))
    return parts


@staff_member_required
@permission_required("syncing.run_sync", raise_exception=True)
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    queued, refused = sync_now_all(trigger=f"admin:{request.user.get_username()}")
    for level, text in sync_now_message(queued, refused):
        messages.add_message(request, level, text)
    return redirect_back(request, "admin:index")
