"""Admin for the library mirror: read-only items, usable on 100k+ rows.

`PlexServerAdmin` and `MediaItemAdmin` are the bases of the admins registered where their
actions live (media imports neither syncing nor deletion): syncing.admin registers Plex
servers with "Sync now", deletion.admin registers media items with "Protect" and "Approve".
Each model is registered exactly once; nothing is unregistered.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from media.forms import PlexServerForm
from media.inputs import int_in_range
from media.models import LibrarySection, MediaItem, SystemConfig


class ViewOnlyAdminMixin:
    """Rows written only by SmartPlex itself (mirrors, run records): browsable, never edited."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class LibrarySectionInline(admin.TabularInline):
    model = LibrarySection
    extra = 0
    fields = ["title", "key", "section_type", "included", "removed_at"]
    readonly_fields = ["title", "key", "section_type", "removed_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PlexServerAdmin(admin.ModelAdmin):
    """Registered by syncing.admin, with its "Sync now" action."""

    form = PlexServerForm
    list_display = ["name", "base_url", "enabled", "machine_identifier", "updated_at"]
    list_filter = ["enabled"]
    readonly_fields = ["machine_identifier", "created_at", "updated_at"]
    inlines = [LibrarySectionInline]


@admin.register(LibrarySection)
class LibrarySectionAdmin(admin.ModelAdmin):
    list_display = ["title", "server", "section_type", "included", "removed_at"]
    list_filter = ["server", "section_type", "included"]
    list_editable = ["included"]
    readonly_fields = ["server", "key", "title", "section_type", "removed_at"]

    def has_add_permission(self, request) -> bool:
        return False


class WatchStateFilter(admin.SimpleListFilter):
    title = "watch state"
    parameter_name = "watched"

    def lookups(self, request, model_admin):
        return [
            ("never", "Never watched"),
            ("recent", "Watched in the last 30 days"),
            ("stale", "Not watched for 30+ days"),
        ]

    def queryset(self, request, queryset):
        cutoff = timezone.now() - timedelta(days=30)
        if self.value() == "never":
            return queryset.filter(total_play_count=0, last_watched_at__isnull=True)
        if self.value() == "recent":
            return queryset.filter(last_watched_at__gte=cutoff)
        if self.value() == "stale":
            return queryset.filter(last_watched_at__lt=cutoff)
        return queryset


class AddedAgeFilter(admin.SimpleListFilter):
    title = "added"
    parameter_name = "added"
    _days = {"7": 7, "30": 30, "90": 90, "365": 365}

    def lookups(self, request, model_admin):
        return [
            ("7", "In the last 7 days"),
            ("30", "In the last 30 days"),
            ("90", "In the last 90 days"),
            ("older365", "More than a year ago"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        now = timezone.now()
        if value in self._days:
            return queryset.filter(added_at__gte=now - timedelta(days=self._days[value]))
        if value == "older365":
            return queryset.filter(added_at__lt=now - timedelta(days=365))
        return queryset


class PresenceFilter(admin.SimpleListFilter):
    """Gone items (left Plex) are hidden unless asked for."""

    title = "in Plex"
    parameter_name = "presence"

    def lookups(self, request, model_admin):
        return [("all", "All"), ("gone", "Gone from Plex")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "In Plex",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        if self.value() == "gone":
            return queryset.filter(removed_at__isnull=False)
        return queryset.filter(removed_at__isnull=True)


class MediaItemAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Registered by deletion.admin, with its "Protect" and "Approve" actions."""

    list_display = [
        "title",
        "type",
        "show_season_episode",
        "size",
        "added_at",
        "last_watched_at",
        "total_play_count",
    ]
    list_filter = ["type", PresenceFilter, WatchStateFilter, AddedAgeFilter, "server", "section"]
    search_fields = [
        "title",
        "grandparent_title",
        "parent_title",
        "=imdb_id",
        "=tmdb_id",
        "=tvdb_id",
    ]
    list_select_related = ["server"]
    show_full_result_count = False
    list_per_page = 50
    date_hierarchy = None
    ordering = ["-added_at"]
    fieldsets = [
        (None, {"fields": ["title", "type", "year", "server", "section", "navigation"]}),
        (
            "Episode",
            {"fields": ["grandparent_title", "parent_title", "season_number", "episode_number"]},
        ),
        ("Files", {"fields": ["file_path", "size"]}),
        ("Identifiers", {"fields": ["plex_id", "guid", "imdb_id", "tmdb_id", "tvdb_id"]}),
        (
            "Statistics (all users, from Tautulli)",
            {
                "fields": [
                    "total_play_count",
                    "last_watched_at",
                    "total_watch_time_seconds",
                    "tautulli_synced_at",
                ]
            },
        ),
        ("Sync", {"fields": ["added_at", "plex_updated_at", "plex_synced_at", "removed_at"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if (plex_id := int_in_range(search_term)) is not None:  # a Plex ratingKey
            queryset |= self.model.objects.filter(plex_id=plex_id)
        return queryset, may_have_duplicates

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    @admin.display(description="S/E", ordering="grandparent_title")
    def show_season_episode(self, obj: MediaItem) -> str:
        if obj.type == MediaItem.MediaType.EPISODE:
            return f"{obj.grandparent_title} · {obj.episode_label}"
        if obj.type == MediaItem.MediaType.SEASON:
            return f"{obj.parent_title or ''} · {obj.episode_label}"
        return ""

    @admin.display(description="Size", ordering="file_size_bytes")
    def size(self, obj: MediaItem) -> str:
        return obj.human_size

    @admin.display(description="Parent / children")
    def navigation(self, obj: MediaItem) -> str:
        changelist = reverse("admin:media_mediaitem_changelist")
        links = []
        parents = MediaItem.objects.filter(
            server_id=obj.server_id,
            plex_id__in=[k for k in (obj.grandparent_plex_id, obj.parent_plex_id) if k],
        ).only("pk", "title", "type")
        for parent in sorted(parents, key=lambda p: p.type != MediaItem.MediaType.SHOW):
            url = reverse("admin:media_mediaitem_change", args=[parent.pk])
            links.append(
                format_html('<a href="{}">{}: {}</a>', url, parent.get_type_display(), parent.title)
            )
        if obj.type == MediaItem.MediaType.SHOW:
            links.append(
                format_html(
                    '<a href="{}?server__id__exact={}&amp;grandparent_plex_id={}&amp;type__exact=season">Seasons</a>'
                    ' · <a href="{}?server__id__exact={}&amp;grandparent_plex_id={}&amp;type__exact=episode">Episodes</a>',
                    changelist,
                    obj.server_id,
                    obj.plex_id,
                    changelist,
                    obj.server_id,
                    obj.plex_id,
                )
            )
        elif obj.type == MediaItem.MediaType.SEASON:
            links.append(
                format_html(
                    '<a href="{}?server__id__exact={}&amp;parent_plex_id={}&amp;type__exact=episode">Episodes</a>',
                    changelist,
                    obj.server_id,
                    obj.plex_id,
                )
            )
        return format_html(" · ".join(["{}"] * len(links)), *links) if links else "—"

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if lookup in ("grandparent_plex_id", "parent_plex_id"):
            return True
        return super().lookup_allowed(lookup, value, request)


@admin.register(SystemConfig)
class SystemConfigAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: each setting is changed on its own page (storage capacity on the
    settings page, the webhook secret by its command), never as raw JSON here."""

    list_display = ["key", "shown_value", "updated_at"]
    fields = readonly_fields = ["key", "shown_value", "updated_at"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Value")
    def shown_value(self, obj: SystemConfig) -> str:
        """The JSON with every secret-looking string masked (the webhook secret is shown by
        `manage.py webhook_secret` only)."""
        return json.dumps(secrets_masked(obj.value, secret=_is_secret_name(obj.key)))


_SECRET_WORDS = ("secret", "token", "password", "api_key", "apikey")


def _is_secret_name(name: object) -> bool:
    return any(word in str(name).lower() for word in _SECRET_WORDS)


def secrets_masked(value, *, secret: bool = False):
    """`value` with the strings under secret-looking names replaced by a mask."""
    if isinstance(value, dict):
        return {k: secrets_masked(v, secret=secret or _is_secret_name(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [secrets_masked(v, secret=secret) for v in value]
    if secret and isinstance(value, str | int) and not isinstance(value, bool):
        return "********"
    return value
