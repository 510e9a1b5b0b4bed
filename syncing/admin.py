"""Admin for connections (with "Sync now" actions) and the record of sync runs."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html

from media.admin import PlexServerAdmin, ViewOnlyAdminMixin
from media.models import PlexServer
from syncing.clients.arr import ArrError
from syncing.clients.seerr import SeerrError
from syncing.forms import ArrServerForm, SeerrServerForm, TautulliServerForm
from syncing.models import (
    ArrItem,
    ArrServer,
    SeerrRequest,
    SeerrServer,
    SyncRun,
    TautulliServer,
    TautulliUser,
)
from syncing.services.arr_sync import arr_connection_test
from syncing.services.operations import sync_now_request
from syncing.services.seerr_sync import seerr_connection_test
from syncing.views import sync_now_message


def _queue(modeladmin, request, kind: str, queryset, inputs: dict | None = None) -> None:
    queued, refused = sync_now_request(
        targets=[(kind, server) for server in queryset.filter(enabled=True)],
        trigger=f"admin:{request.user.get_username()}",
        inputs=inputs,
    )
    for level, text in sync_now_message(queued, refused):
        modeladmin.message_user(request, text, level)


def sync_action(kind: str, description: str, *, inputs: dict | None = None, **only):
    """A "Sync now" action: a run of `kind` queued for each selected enabled target (narrowed
    by the `only` filters), needing the run_sync permission."""

    @admin.action(description=description, permissions=["run_sync"])
    def sync_now(modeladmin, request, queryset) -> None:
        _queue(modeladmin, request, kind, queryset.filter(**only), inputs=inputs)

    return sync_now


class SyncActionMixin:
    def has_run_sync_permission(self, request) -> bool:
        return request.user.has_perm("syncing.run_sync")


@admin.register(PlexServer)
class SyncablePlexServerAdmin(SyncActionMixin, PlexServerAdmin):
    """The Plex server admin (media.admin's), registered here where its action lives."""

    actions = ["sync_now"]

    sync_now = sync_action(SyncRun.Kind.PLEX, "Sync now (Plex library)")


@admin.register(TautulliServer)
class TautulliServerAdmin(SyncActionMixin, admin.ModelAdmin):
    form = TautulliServerForm
    list_display = ["name", "base_url", "plex_server", "enabled", "updated_at"]
    list_filter = ["enabled"]
    actions = ["sync_now", "sync_now_full"]

    sync_now = sync_action(SyncRun.Kind.TAUTULLI, "Sync now (new history)")
    sync_now_full = sync_action(
        SyncRun.Kind.TAUTULLI, "Sync now (full rebuild of statistics)", inputs={"full": True}
    )


@admin.register(ArrServer)
class ArrServerAdmin(SyncActionMixin, admin.ModelAdmin):
    form = ArrServerForm
    list_display = ["name", "kind", "base_url", "plex_server", "enabled", "version", "updated_at"]
    list_filter = ["kind", "enabled"]
    readonly_fields = ["version", "created_at", "updated_at"]
    actions = ["test_connection", "sync_now"]

    sync_now = sync_action(SyncRun.Kind.ARR, "Sync now (Radarr/Sonarr)", plex_server__enabled=True)

    # An operation, not an edit: the same permission as "Sync now" (docs/operations.md).
    @admin.action(description="Test connection (system/status)", permissions=["run_sync"])
    def test_connection(self, request, queryset) -> None:
        for server in queryset:
            try:
                version = arr_connection_test(server=server)
            except ArrError as exc:
                self.message_user(request, f"{server.name}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{server.name}: connected, {version}.", messages.SUCCESS
                )


@admin.register(ArrItem)
class ArrItemAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "year", "kind", "server", "monitored", "matched_by", "media_item"]
    list_filter = ["server", "kind", "monitored", "matched_by"]
    list_select_related = ["server", "media_item"]
    search_fields = ["title", "tmdb_id", "tvdb_id", "imdb_id"]
    show_full_result_count = False


@admin.register(SeerrServer)
class SeerrServerAdmin(SyncActionMixin, admin.ModelAdmin):
    form = SeerrServerForm
    list_display = ["name", "base_url", "enabled", "updated_at"]
    list_filter = ["enabled"]
    actions = ["sync_now", "test_connection"]

    sync_now = sync_action(SyncRun.Kind.SEERR, "Sync now (Seerr requests)")

    @admin.action(description="Test connection", permissions=["run_sync"])
    def test_connection(self, request, queryset) -> None:
        for seerr in queryset:
            try:
                self.message_user(request, seerr_connection_test(seerr=seerr), messages.SUCCESS)
            except SeerrError as exc:
                self.message_user(request, f"{seerr.name}: {exc}", messages.ERROR)


@admin.register(SeerrRequest)
class SeerrRequestAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "request_id", "media_type", "tmdb_id", "tvdb_id", "requester_name", "tautulli_user",
        "requested_at", "status", "plex_id", "seerr",
    ]  # fmt: skip
    list_filter = ["seerr", "media_type", "status"]
    list_select_related = ["seerr", "tautulli_user"]
    search_fields = ["requester_plex_username", "requester_email", "=tmdb_id", "=tvdb_id"]


@admin.register(TautulliUser)
class TautulliUserAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "friendly_name", "username", "email", "user_id", "keep_history", "is_active", "tautulli",
    ]  # fmt: skip
    list_filter = ["keep_history", "is_active", "tautulli"]
    list_select_related = ["tautulli"]
    search_fields = ["username", "friendly_name", "email"]


@admin.register(SyncRun)
class SyncRunAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "server",
        "status_badge",
        "started_at",
        "took",
        "progress",
        "items_seen",
        "items_created",
        "items_updated",
        "items_gone",
        "rows_created",
        "unmatched",
        "short_error",
    ]
    list_filter = ["kind", "status", "plex_server", "tautulli_server", "arr_server", "seerr_server"]
    list_select_related = ["plex_server", "tautulli_server", "arr_server", "seerr_server"]
    show_full_result_count = False
    date_hierarchy = "started_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.display(description="Server")
    def server(self, obj: SyncRun):
        return obj.target

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: SyncRun) -> str:
        color = {"success": "#2e7d32", "failed": "#c62828"}.get(obj.status, "#b26a00")
        return format_html('<b style="color:{}">{}</b>', color, obj.get_status_display())

    @admin.display(description="Duration")
    def took(self, obj: SyncRun) -> str:
        d = obj.duration
        return f"{d.total_seconds():.1f} s" if d else "—"

    @admin.display(description="Progress")
    def progress(self, obj: SyncRun) -> str:
        if obj.progress_total:
            return f"{obj.progress_done:,}/{obj.progress_total:,} {obj.progress_label}".strip()
        return f"{obj.progress_done:,} {obj.progress_label}".strip() if obj.progress_done else "—"

    @admin.display(description="Error")
    def short_error(self, obj: SyncRun) -> str:
        return (obj.error[:120] + "…") if len(obj.error) > 120 else obj.error
