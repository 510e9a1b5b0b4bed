"""The candidates page's filter form, turned into a CandidateFilter.

A plain Form: the groups are computed by deletion.selectors in SQL of their own, not by
filtering a model queryset, so there is nothing for a django-filter FilterSet to filter.
"""

from __future__ import annotations

from django import forms

from deletion.models import DeletionRule, Level
from deletion.selectors import SORTS, CandidateFilter
from media.inputs import int_in_range
from media.models import LibrarySection

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


class _ListedChoices(forms.models.ModelChoiceIterator):
    """The choices in one plain query. Django's iterator streams them (`.iterator()`): on
    PostgreSQL a server-side cursor, DECLARE, FETCH and CLOSE, three round trips for a
    handful of rules or libraries on every page view."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:  # the form's own copy of the queryset: read once
            yield self.choice(obj)


class _ListedChoiceField(forms.ModelChoiceField):
    iterator = _ListedChoices


class CandidateFilterForm(forms.Form):
    """The query string of the candidates page; every field is optional."""

    rule = _ListedChoiceField(
        queryset=DeletionRule.objects.filter(enabled=True),
        required=False,
        empty_label="Any enabled rule",
        label="Rule",
    )
    section = _ListedChoiceField(
        queryset=LibrarySection.objects.filter(
            included=True, removed_at__isnull=True
        ).select_related("server"),
        required=False,
        empty_label="All libraries",
        label="Library",
    )
    media = forms.ChoiceField(
        choices=[("", "Movies and TV"), ("movie", "Movies"), ("tv", "TV")],
        required=False,
        label="Type",
    )
    min_size_gb = forms.DecimalField(
        label="Min size (GB)",
        required=False,
        min_value=0,
        widget=forms.NumberInput({"step": "0.1"}),
    )
    never_watched = forms.BooleanField(label="Never watched", required=False)
    q = forms.CharField(label="Title", required=False)
    group_by = forms.ChoiceField(  # switched by the tabs; kept when re-filtering
        choices=GROUP_BY_CHOICES, required=False, widget=forms.HiddenInput
    )
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, label="Sort")
    show = forms.CharField(required=False, widget=forms.HiddenInput)
    season = forms.CharField(required=False, widget=forms.HiddenInput)

    def _rules_enabled(self) -> list[DeletionRule]:
        """rules_enabled_get's rules (the enabled ones by pk), read from the rule field's
        choices: the page renders them anyway, so one query serves both."""
        return sorted(self.fields["rule"].queryset, key=lambda rule: rule.pk)

    def to_candidate_filter(self) -> CandidateFilter:
        """What the page asks for; an invalid query string asks for everything."""
        data = self.cleaned_data if self.is_valid() else {}
        rule, rules = data.get("rule"), ()
        if rule is None:  # every enabled rule: one alone keeps the single-rule page
            enabled = self._rules_enabled()
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
