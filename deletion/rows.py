"""The candidates table's rows, built in Python (like the admin's `items_for_result`).

A page shows up to 200 rows of a dozen cells; rendering a template include per row cost
more CPU than the rest of the page's Python. Each cell is escaped by format_html; the HTML
is what templates/deletion/candidates.html documents (tests and Playwright read its
data-testid attributes and texts).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from deletion.groups import Candidate, CandidateFilter
from deletion.models import Level

_ROW = (
    '<tr data-ref="{ref}">\n'
    '  <td><input type="checkbox" name="refs" value="{ref}" aria-label="Select {title}"></td>\n'
    '  <td class="title">{title_cell}</td>\n'
    '  <td><span class="pill">{level}</span></td>\n'
    '  <td class="num">{items}</td>\n'
    '  <td class="num">{size}</td>\n'
    '  <td title="{added_at}">{added_on} <small>{added_days} d{grace}</small></td>\n'
    "  <td>{watched}</td>\n"
    '  <td class="num">{watched_days}{inactivity}</td>\n'
    '  <td class="num">{plays}{max_plays}</td>\n'
    '  <td data-testid="rule-name">{rule_name}</td>\n'
    '  <td data-testid="requested-by">{requested_by}</td>\n'
    '  <td data-testid="watched-by">{watched_by}</td>\n'
    "</tr>\n"
)
_ASSUMED = (
    '<span title="Added before Tautulli\'s history starts: possibly watched then">'
    "unknown, ≤ {}</span>"
)


def _local(when: datetime | None) -> datetime | None:
    """What the `date` filter shows: aware times in the current time zone."""
    return timezone.template_localtime(when) if when is not None else None


def _day(when: datetime | None) -> str:
    """The `date:"Y-m-d"` filter ("" when unknown)."""
    when = _local(when)
    return "" if when is None else f"{when.year:04d}-{when.month:02d}-{when.day:02d}"


def _minute(when: datetime | None) -> str:
    """The `date:"Y-m-d H:i"` filter."""
    local = _local(when)
    return "" if local is None else f"{_day(local)} {local.hour:02d}:{local.minute:02d}"


def _names(names: tuple[str, ...]) -> SafeString | str:
    """The `join:", "|default:"—"` filters."""
    return format_html_join(", ", "{}", ((name,) for name in names)) or "—"


def _title_cell(row: Candidate, f: CandidateFilter) -> SafeString:
    """Shows and seasons link to what is inside them (keeping the chosen rule)."""
    rule = format_html("&amp;rule={}", f.rule.pk) if f.rule else ""
    key = f"{row.server_id}-{row.plex_id}"
    if row.level == Level.SHOW:
        return format_html('<a href="?group_by=season&amp;show={}{}">{}</a>', key, rule, row.title)
    if row.level == Level.SEASON:
        return format_html(
            '<a href="?group_by=episode&amp;season={}{}">{} – {}</a>',
            key, rule, row.title, row.subtitle or "Season",
        )  # fmt: skip
    if row.level == Level.EPISODE:
        return format_html("{} {} · {}", row.subtitle, row.episode_label, row.title)
    return format_html("{}", row.title)


def _watched(row: Candidate) -> SafeString | str:
    if row.last_watched:
        return _day(row.last_watched)
    if row.watch_is_assumed:
        return format_html(_ASSUMED, _day(row.assumed_watched))
    return "never"


def _thresholds(f: CandidateFilter) -> dict[str, SafeString | str]:
    """The chosen rule's thresholds beside the row's values (why it matched)."""
    rule = f.rule
    if rule is None:
        return {"grace": "", "inactivity": "", "max_plays": ""}
    return {
        "grace": format_html(" (≥ {})", rule.grace_days),
        "inactivity": format_html(" <small>(≥ {})</small>", rule.inactivity_days),
        "max_plays": format_html(" <small>(&lt; {})</small>", rule.max_plays),
    }


def _row_html(row: Candidate, f: CandidateFilter, thresholds: dict) -> SafeString:
    """One `<tr>` of the candidates table."""
    watched_days = row.days_since_watched
    return format_html(
        _ROW,
        ref=row.ref,
        title=row.title,
        title_cell=_title_cell(row, f),
        level=row.level,
        items=row.items,
        size=row.human_size,
        added_at=_minute(row.added),
        added_on=_day(row.added),
        added_days=row.days_since_added,
        watched=_watched(row),
        watched_days="never" if watched_days is None else watched_days,
        plays=row.plays,
        rule_name=row.rule_name or "—",
        requested_by=_names(row.requested_by),
        watched_by=_names(row.watched_by),
        **thresholds,
    )


def candidate_rows_html(rows: list[Candidate], f: CandidateFilter) -> SafeString:
    """The `<tr>`s of the candidates table's body (empty when there are no rows)."""
    thresholds = _thresholds(f)
    return mark_safe("".join(_row_html(row, f, thresholds) for row in rows))  # each escaped
