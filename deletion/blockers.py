"""What keeps a batch of groups from being approved: active protections and open requests
on the group, inside it or above it, read in two queries for the whole batch (an admin
action over thousands of rows asked two per group).

"Inside or above" is the rule of deletion.selectors.group_is_protected: a show is blocked
by a row on the show or on any of its seasons or episodes; a season by the season, its
episodes or its show; an episode by itself, its season or its show.
"""

from __future__ import annotations

from django.db.models import Q

from deletion.groups import Candidate
from deletion.models import DeletionRequest, Level
from deletion.queries import active_exclusions

_COLUMNS = ("plex_id", "show_plex_id", "season_plex_id")


class GroupBlockers:
    """Protections and open requests touching `candidates`, indexed by key column."""

    def __init__(self, candidates: list[Candidate]) -> None:
        where = _touching(candidates)
        self._protected = _Index(active_exclusions().filter(where).values(*_ROW))
        open_requests = DeletionRequest.objects.filter(status__in=DeletionRequest.OPEN)
        self._requests = _Index(open_requests.filter(where).values(*_ROW, "level", "title"))

    def protected(self, c: Candidate) -> bool:
        return self._protected.find(c) is not None

    def open_request(self, c: Candidate) -> dict | None:
        """The open request on, inside or above this group (as a dict), if any."""
        return self._requests.find(c)

    def add_request(self, request: DeletionRequest) -> None:
        """A request approved in this batch blocks the rest of the batch too."""
        self._requests.add({f: getattr(request, f) for f in (*_ROW, "level", "title")})


_ROW = ("server_id", *_COLUMNS)


def _touching(candidates: list[Candidate]) -> Q:
    keys: dict[int, set[int]] = {}
    for c in candidates:
        keys.setdefault(c.server_id, set()).update(
            k for k in (c.plex_id, c.show_plex_id, c.season_plex_id) if k is not None
        )
    where = Q(pk__in=[])
    for server_id, found in keys.items():
        columns = Q(plex_id__in=found) | Q(show_plex_id__in=found) | Q(season_plex_id__in=found)
        where |= Q(server_id=server_id) & columns
    return where


class _Index:
    def __init__(self, rows) -> None:
        self._by: dict[str, dict[tuple[int, int], dict]] = {c: {} for c in _COLUMNS}
        for row in rows:
            self.add(row)

    def add(self, row: dict) -> None:
        for column in _COLUMNS:
            if row[column] is not None:
                self._by[column].setdefault((row["server_id"], row[column]), row)

    def find(self, c: Candidate) -> dict | None:
        lookups = [("plex_id", c.plex_id)]
        if c.level == Level.SHOW:
            lookups.append(("show_plex_id", c.plex_id))
        elif c.level == Level.SEASON:
            lookups += [("season_plex_id", c.plex_id), ("plex_id", c.show_plex_id)]
        elif c.level == Level.EPISODE:
            lookups += [("plex_id", c.show_plex_id), ("plex_id", c.season_plex_id)]
        for column, key in lookups:
            if key is not None and (row := self._by[column].get((c.server_id, key))):
                return row
        return None
