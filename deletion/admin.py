"""Admin for rules, protections, requests and the (read-only) audit log, plus "Protect" and
"Approve for deletion" actions on the library list (media must not import deletion, so the
MediaItem admin registered here extends media.admin's base; it is registered only here)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from deletion.models import (
    AuditLog,
    DeletionRequest,
    DeletionRule,
    DeletionRun,
    Exclusion,
    LeavingCollection,
)
from deletion.services import candidates_approve, exclusion_remove, groups_protect, refs_from_items
from media.admin import MediaItemAdmin, ViewOnlyAdminMixin
from media.models import MediaItem


class AppendOnlyAdminMixin(ViewOnlyAdminMixin):
    """Execution records and the audit log: nobody edits or removes them."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeletionRule)
class DeletionRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name", "enabled", "grace_days", "inactivity_days", "max_plays", "min_size_gb",
        "requester_watched",
    ]  # fmt: skip
    list_filter = ["enabled", "requester_watched"]
    filter_horizontal = ["sections", "ignore_users"]


@admin.register(Exclusion)
class ExclusionAdmin(admin.ModelAdmin):
    list_display = ["title", "level", "server", "until", "reason", "created_by", "created_at"]
    list_filter = ["level", "server"]
    search_fields = ["title", "=plex_id"]
    list_select_related = ["server", "created_by"]
    fields = ["server", "level", "plex_id", "title", "until", "reason", "created_by", "created_at"]
    readonly_fields = ["server", "level", "plex_id", "title", "created_by", "created_at"]
    actions = ["unprotect"]

    def has_add_permission(self, request) -> bool:
        return False  # protect from the candidates page or the library list

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # unprotect through the action, so the audit log records it

    def has_protect_permission(self, request) -> bool:
        return request.user.has_perm("deletion.protect_media")

    @admin.action(description="Unprotect selected", permissions=["protect"])
    def unprotect(self, request, queryset):
        count = 0
        for exclusion in queryset:
            exclusion_remove(exclusion=exclusion, user=request.user)
            count += 1
        self.message_user(request, f"{count} protection(s) removed.", messages.SUCCESS)


@admin.register(DeletionRequest)
class DeletionRequestAdmin(admin.ModelAdmin):
    list_display = ["title", "level", "server", "status", "item_count", "size", "approved_by"]
    list_filter = ["status", "level", "server", "dry_run"]
    search_fields = ["title", "=plex_id"]
    list_select_related = ["server", "approved_by"]
    date_hierarchy = "approved_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj: DeletionRequest) -> str:
        return obj.human_size


@admin.register(DeletionRun)
class DeletionRunAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "started_at", "status", "dry_run", "deleted", "skipped", "failed"]
    list_filter = ["status", "dry_run"]


@admin.register(AuditLog)
class AuditLogAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "action", "username", "level", "title", "size", "message"]
    list_filter = ["action", "level"]
    search_fields = ["title", "username", "=plex_id"]
    list_select_related = ["server"]
    show_full_result_count = False

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj: AuditLog) -> str:
        return obj.human_size


@admin.register(LeavingCollection)
class LeavingCollectionAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["section", "plex_key", "items", "updated_at", "error"]
    list_select_related = ["section__server"]


@admin.register(MediaItem)
class DeletionMediaItemAdmin(MediaItemAdmin):
    """The library list with "Protect" and "Approve for deletion" (confirmation first)."""

    actions = ["protect_items", "approve_items"]
    # Like ModelAdmin.delete_selected_confirmation_template: None = the lookup chain below.
    action_confirmation_template: str | None = None

    def has_protect_permission(self, request) -> bool:
        return request.user.has_perm("deletion.protect_media")

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("deletion.approve_deletion")

    def _confirm(self, request, queryset, action: str, title: str) -> TemplateResponse:
        """The confirmation page, found the way Django's own delete confirmation is: the
        model's template, then the app's, then the project-wide one."""
        opts = self.model._meta
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "items": queryset[:200],
            "count": queryset.count(),
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "opts": opts,
            "app_label": opts.app_label,
        }
        templates = self.action_confirmation_template or [
            f"admin/{opts.app_label}/{opts.model_name}/action_confirmation.html",
            f"admin/{opts.app_label}/action_confirmation.html",
            "admin/action_confirmation.html",
        ]
        return TemplateResponse(request, templates, context)

    @admin.action(description="Protect from deletion", permissions=["protect"])
    def protect_items(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            return self._confirm(request, queryset, "protect_items", "Protect these items?")
        reason = request.POST.get("reason", "")[:300]
        result = groups_protect(refs=refs_from_items(queryset), user=request.user, reason=reason)
        self.message_user(request, f"Protected: {result.message}.", messages.SUCCESS)

    @admin.action(description="Approve for deletion", permissions=["approve"])
    def approve_items(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            return self._confirm(request, queryset, "approve_items", "Approve these for deletion?")
        result = candidates_approve(refs=refs_from_items(queryset), user=request.user, rule=None)
        level = messages.SUCCESS if result.done else messages.WARNING
        self.message_user(request, f"Approved: {result.message}.", level)
