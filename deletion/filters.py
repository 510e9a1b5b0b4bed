"""The candidates page's filter form (django-filter), turned into a CandidateFilter.

The groups are computed by deletion.selectors, not by filtering a model queryset, so this
FilterSet is used for its form: validation, widgets and the query-string round trip.
"""

from __future__ import annotations

import django_filters
from django import forms

from deletion.models import DeletionRule, Level
from deletion.selectors import SORTS, CandidateFilter, rules_enabled_get
from media.inputs import int_in_range
from media.models import LibrarySection, MediaItem

GROUP_BY_CHOICES = [
    ("", "Shows and movies"),
    (Level.SHOW, "Shows"),
    (Level.SEASON, "Seasons"),
    (Level.EPISODE, "Episodes"),
    (Level.MOVIE, "Movies"),
]
SORT_CHOICES = [
    ("size", "Largest first"),
    ("-size", "Smallest first"),
    ("watched", "Longest unwatched"),
    ("-watched", "Most recently watched"),
    ("added", "Oldest added"),
    ("-added", "Newest added"),
    ("plays", "Fewest plays"),
    ("-plays", "Most plays"),
]
assert {c for c, _ in SORT_CHOICES} == set(SORTS)


def _parse_key(value: str) -> tuple[int, int] | None:
    """ "<server id>-<plex key>" → (server id, key)."""
    server, _, key = (value or "").partition("-")
    server_id, plex_id = int_in_range(server), int_in_range(key)
    return None if server_id is None or plex_id is None else (server_id, plex_id)


class CandidateFilterSet(django_filters.FilterSet):
    rule = django_filters.ModelChoiceFilter(
        queryset=DeletionRule.objects.filter(enabled=True),
        empty_label="Any enabled rule",
        label="Rule",
        method="keep",
    )
    section = django_filters.ModelChoiceFilter(
        queryset=LibrarySection.objects.filter(
            included=True, removed_at__isnull=True
        ).select_related("server"),
        empty_label="All libraries",
        label="Library",
        method="keep",
    )
    media = django_filters.ChoiceFilter(
        choices=[("movie", "Movies"), ("tv", "TV")],
        empty_label="Movies and TV",
        label="Type",
        method="keep",
    )
    min_size_gb = django_filters.NumberFilter(
        label="Min size (GB)", min_value=0, method="keep", widget=forms.NumberInput({"step": "0.1"})
    )
    never_watched = django_filters.BooleanFilter(
        label="Never watched", method="keep", widget=forms.CheckboxInput
    )
    q = django_filters.CharFilter(label="Title", method="keep")
    group_by = django_filters.ChoiceFilter(  # switched by the tabs; kept when re-filtering
        choices=GROUP_BY_CHOICES[1:],
        empty_label=GROUP_BY_CHOICES[0][1],
        method="keep",
        widget=forms.HiddenInput,
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, empty_label=None, label="Sort", method="keep"
    )
    show = django_filters.CharFilter(method="keep", widget=forms.HiddenInput)
    season = django_filters.CharFilter(method="keep", widget=forms.HiddenInput)

    class Meta:
        model = MediaItem
        fields: list[str] = []

    def keep(self, queryset, name, value):
        return queryset  # the selectors do the work

    def to_candidate_filter(self) -> CandidateFilter:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        rule, rules = data.get("rule"), ()
        if rule is None:  # every enabled rule: one alone keeps the single-rule page
            enabled = rules_enabled_get()
            rule, rules = (enabled[0], ()) if len(enabled) == 1 else (None, tuple(enabled))
        return CandidateFilter(
            rule=rule,
            rules=rules,
            group_by=data.get("group_by") or "",
            media=data.get("media") or "",
            section_id=data["section"].pk if data.get("section") else None,
            min_size_gb=data.get("min_size_gb"),
            never_watched=bool(data.get("never_watched")),
            search=(data.get("q") or "").strip(),
            show=_parse_key(data.get("show") or ""),
            season=_parse_key(data.get("season") or ""),
            sort=data.get("sort") or "size",
        )
