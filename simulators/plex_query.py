"""Section listing filters and sorts, as PMS answers them.

Date filters: `addedAt>>=VALUE` ("is after", strictly later) and `addedAt<<=VALUE`
("is before"), the same for `updatedAt`; the query string splits them as
`addedAt>>` = VALUE. The field may carry a type prefix, as plexapi sends for a type
other than the section's own (`episode.updatedAt>>=…`); a prefix naming a parent type
(`show.addedAt` on episodes) filters on that parent's date. VALUE is epoch seconds, a
date `YYYY-MM-DD`, or relative to now (`-30d`, `-2h`, `-15m`; units s m h d w mon y).
Sorts: `sort=[type.]field[:asc|:desc]` on addedAt, updatedAt, title, ratingKey (a comma
list sorts on several). Anything malformed is a 400, as on PMS.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_FILTER = re.compile(
    r"^(?:(?P<type>movie|show|season|episode)\.)?(?P<field>addedAt|updatedAt)(?P<op>>>|<<)$"
)
_RELATIVE = re.compile(r"^-?(?P<n>\d+)(?P<unit>mon|[smhdwy])$")
_UNIT_SECONDS = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86_400,
    "w": 7 * 86_400,
    "mon": 30 * 86_400,
    "y": 365 * 86_400,
}
_SORT_FIELDS = {
    "addedAt": "added_at",
    "updatedAt": "updated_at",
    "title": "title",
    "titleSort": "title",
    "ratingKey": "rating_key",
}
_ATTRS = {"addedAt": "added_at", "updatedAt": "updated_at"}


class QueryError(ValueError):
    """A filter or sort PMS would refuse (400)."""


def epoch_value(value: str, now: float) -> int:
    """A filter's date value as epoch seconds."""
    value = value.strip()
    if value.lstrip("-").isdigit() and not _RELATIVE.match(value):
        return int(value)
    relative = _RELATIVE.match(value)
    if relative:
        return int(now) - int(relative["n"]) * _UNIT_SECONDS[relative["unit"]]
    try:
        return int(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise QueryError(f"bad date value {value!r}") from None


def _related(obj, type_name: str | None):
    """The object a prefixed field refers to: the item itself or one of its parents."""
    if type_name is None or type_name == obj.media_type:
        return obj
    if type_name == "show" and obj.media_type in ("season", "episode"):
        return obj.show if obj.media_type == "season" else obj.season.show
    if type_name == "season" and obj.media_type == "episode":
        return obj.season
    return None


def apply_filters(items: list, query: dict[str, str], now: float) -> list:
    """The items matching every date filter in the query (others are left to the caller)."""
    for key, value in query.items():
        match = _FILTER.match(key)
        if not match:
            continue
        bound = epoch_value(value, now)
        attr = _ATTRS[match["field"]]
        after = match["op"] == ">>"
        kept = []
        for obj in items:
            target = _related(obj, match["type"])
            if target is None:
                raise QueryError(f"{match['type']} fields do not apply to {obj.media_type}s")
            stamp = getattr(target, attr)
            if (stamp > bound) if after else (stamp < bound):
                kept.append(obj)
        items = kept
    return items


def apply_sort(items: list, sort: str | None) -> list:
    """Items in the order of `sort` (stable, so ties keep the library order)."""
    if not sort:
        return items
    for part in reversed(sort.split(",")):
        name, _, direction = part.partition(":")
        name = name.split(".")[-1]
        if name not in _SORT_FIELDS or direction not in ("", "asc", "desc"):
            raise QueryError(f"unknown sort {part!r}")
        attr = _SORT_FIELDS[name]
        items = sorted(items, key=lambda obj: getattr(obj, attr), reverse=direction == "desc")
    return items
