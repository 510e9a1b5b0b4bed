"""Removing one due group through the system that downloads it, so nothing comes back.

A movie goes through Radarr, a show/season/episode through Sonarr, with exactly the calls
of DESIGN.md "How a due group is removed" (plus the reads they need: the series resource a
PUT sends back, the re-read that confirms the unmonitor, the season's current files):
- movie:   DELETE /movie/{id}?deleteFiles=true&addImportExclusion=true
- show:    DELETE /series/{id}?deleteFiles=true&addImportListExclusion=true
- season:  GET + PUT /series/{id} (season unmonitored), GET /series/{id} to confirm, then
           DELETE /episodefile/{id} per file of the season; nothing is deleted unconfirmed
- episode: PUT /episode/monitor (monitored false), DELETE /episodefile/{id}
then Plex rescans the folder (no Plex DELETE). The instance is the one whose file is the
Plex item's file (after path mappings); a group held by no instance goes through Plex, or
is skipped (`when_not_in_arr`). Every call is recorded as it returns (`RemovalCall`), so a
season that fails half-way says exactly which files are gone; a retry re-reads the season's
files and deletes only what is left, and a 404 on a delete counts as already done.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.defaultfilters import pluralize
from django.utils import timezone

from deletion.models import DeletionRequest, DeletionRun, Level, RemovalCall
from media.models import MediaItem
from syncing.clients.arr import ArrClient, ArrError
from syncing.clients.plex import PlexClient, PlexError
from syncing.models import ArrEpisode, ArrItem
from syncing.services.arr_sync import arr_client_for

Status = DeletionRequest.Status
ALREADY = object()  # what `_Calls.run` returns when the call found its work already done


class Refused(Exception):
    """The group cannot safely go through the *arr; the message says why."""


@dataclass(frozen=True)
class Route:
    system: str  # "radarr" | "sonarr" | "plex" | "skip" | "refuse"
    item: ArrItem | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.item is not None:
            return f"{self.item.server.get_kind_display()} “{self.item.server.name}”"
        return {"plex": "Plex (held by no Radarr/Sonarr)"}.get(self.system, self.reason)


@dataclass(frozen=True)
class Removal:
    status: str  # a DeletionRequest.Status: deleted, skipped or failed
    message: str


def _group_items(request: DeletionRequest) -> tuple[MediaItem | None, MediaItem | None]:
    """The Plex row of the group itself and of the movie/show that holds it."""
    rows = {
        row.plex_id: row
        for row in MediaItem.objects.filter(
            server_id=request.server_id, plex_id__in=[request.plex_id, request.show_plex_id or 0]
        ).select_related("section")
    }
    top = request.plex_id if request.level in (Level.MOVIE, Level.SHOW) else request.show_plex_id
    return rows.get(request.plex_id), rows.get(top)


def removal_route(*, request: DeletionRequest, when_not_in_arr: str = "plex") -> Route:
    """Which system and instance removes this group (no outside call is made)."""
    _, top = _group_items(request)
    kind = ArrItem.Kind.MOVIE if request.level == Level.MOVIE else ArrItem.Kind.SERIES
    held = list(
        ArrItem.objects.filter(media_item=top, kind=kind, server__enabled=True).select_related("server")
    ) if top is not None else []  # fmt: skip
    by_path = [i for i in held if i.matched_by == ArrItem.MatchedBy.PATH]
    if len(by_path) == 1:
        return Route(by_path[0].server.kind, by_path[0])
    names = ", ".join(sorted(f"“{i.server.name}”" for i in held))
    if len(by_path) > 1:
        return Route(
            "refuse",
            reason=f"Held by {names} with the same files: cannot tell which instance to use.",
        )
    if held:
        return Route(
            "refuse",
            reason=f"Held by {names} by id only, not by the Plex file's path "
            "(check the path mappings): cannot tell which instance to use.",
        )
    if when_not_in_arr == "skip":
        return Route("skip", reason="Held by no Radarr/Sonarr (setting: skip such groups).")
    return Route("plex")


class _Calls:
    """Performs calls one at a time and records each outcome as it returns (the *arr
    folders it returns are Plex paths: the caller asks Plex to rescan them)."""

    def __init__(
        self, request: DeletionRequest, run: DeletionRun | None, system: str, instance: str
    ):
        self.request, self.run, self.system, self.instance = request, run, system, instance
        self.made = 0

    def run_call(
        self, method: str, path: str, fn: Callable[[], Any], *, status: Callable[[], int | None],
        already: Callable[[Exception], bool] | None = None,
    ) -> Any:  # fmt: skip
        self.made += 1
        try:
            result = fn()
        except (ArrError, PlexError) as exc:
            code = getattr(exc, "status", None)
            if already is not None and already(exc):
                self._save(method, path, code, RemovalCall.Outcome.ALREADY, str(exc))
                return ALREADY
            self._save(method, path, code, RemovalCall.Outcome.FAILED, str(exc))
            raise
        self._save(method, path, status(), RemovalCall.Outcome.OK, "")
        return result

    def _save(self, method, path, code, outcome, message) -> None:
        RemovalCall.objects.create(
            request=self.request, run=self.run, system=self.system, instance=self.instance,
            method=method, path=path[:500], status_code=code, outcome=outcome, message=message,
        )  # fmt: skip


def _arr(calls: _Calls, client: ArrClient):
    """`run_call` bound to this client (its last HTTP status is what gets recorded)."""

    def run(method: str, path: str, fn, **kw) -> Any:
        return calls.run_call(
            method, f"/api/v3/{path}", fn, status=lambda: client.last_status, **kw
        )

    return run


def _gone(exc: Exception) -> bool:
    return isinstance(exc, ArrError) and exc.status == 404


def _duplicate(exc: Exception) -> bool:
    return isinstance(exc, ArrError) and exc.duplicate_exclusion


def group_remove(
    *, request: DeletionRequest, plex: PlexClient, run: DeletionRun | None = None,
    when_not_in_arr: str = "plex",
) -> Removal:  # fmt: skip
    """Remove one approved group (see the module docstring). Raises PlexError only when
    the group goes through Plex and Plex fails (the caller records it like before)."""
    route = removal_route(request=request, when_not_in_arr=when_not_in_arr)
    if route.system == "skip":
        return Removal(Status.SKIPPED, route.reason)
    if route.system == "refuse":
        return Removal(Status.FAILED, route.reason)
    if route.system == "plex":
        return _through_plex(request, plex, run)
    server = route.item.server
    calls = _Calls(request, run, server.kind, server.name)
    with arr_client_for(server=server) as client:
        try:
            folder = _REMOVERS[request.level](request, route.item, client, _arr(calls, client))
        except (ArrError, Refused) as exc:
            return Removal(Status.FAILED, f"{route.describe()}: {exc}")
    note = _rescan(request, plex, folder, run)
    return Removal(
        Status.DELETED,
        f"Deleted through {route.describe()} ({calls.made} call{pluralize(calls.made)}){note}.",
    )


def _through_plex(request: DeletionRequest, plex: PlexClient, run) -> Removal:
    calls = _Calls(request, run, "plex", request.server.name)
    path = f"/library/metadata/{request.plex_id}"
    calls.run_call("DELETE", path, lambda: plex.delete_item(request.plex_id), status=lambda: 200)
    return Removal(
        Status.DELETED,
        f"Deleted through Plex at the {request.level} level (held by no Radarr/Sonarr).",
    )


def _rescan(request: DeletionRequest, plex: PlexClient, folder: str | None, run) -> str:
    """Ask Plex to rescan the folder the *arr emptied; a failure is noted, not fatal."""
    _, top = _group_items(request)
    if not folder or top is None or top.section is None:
        return ", no Plex folder to rescan"
    calls = _Calls(request, run, "plex", request.server.name)
    path = f"/library/sections/{top.section.key}/refresh?path={folder}"
    try:
        calls.run_call(
            "GET", path, lambda: plex.section_refresh(top.section.key, folder), status=lambda: 200
        )
    except PlexError as exc:
        return f"; Plex rescan failed ({exc})"
    return f", Plex asked to rescan {folder}"


def _movie(request, item: ArrItem, client: ArrClient, run) -> str | None:
    path = f"movie/{item.arr_id}?deleteFiles=true&addImportExclusion=true"
    if run("DELETE", path, lambda: client.movie_delete(item.arr_id), already=_gone) is ALREADY:
        _exclude(item, client, run)  # a retry after Radarr already removed it
    return posixpath.dirname(item.file_path) if item.file_path else item.server.plex_path(item.path)


def _exclude(item: ArrItem, client: ArrClient, run) -> None:
    external = item.tmdb_id if item.kind == ArrItem.Kind.MOVIE else item.tvdb_id
    if not external:
        return
    path = "exclusions" if item.kind == ArrItem.Kind.MOVIE else "importlistexclusion"
    add = lambda: client.exclusion_add(external_id=int(external), title=item.title, year=item.year)  # noqa: E731
    run("POST", path, add, already=_duplicate)


def _show(request, item: ArrItem, client: ArrClient, run) -> str | None:
    path = f"series/{item.arr_id}?deleteFiles=true&addImportListExclusion=true"
    try:
        run("DELETE", path, lambda: client.series_delete(item.arr_id))
    except ArrError as exc:
        # Sonarr answers 500 (not 404) for a series it no longer has: look before failing.
        if (
            exc.status != 500
            or run(
                "GET",
                f"series/{item.arr_id}",
                lambda: client.series_raw(item.arr_id),
                already=_gone,
            )
            is not ALREADY
        ):
            raise
        _exclude(item, client, run)
    return item.server.plex_path(item.path)


def _season(request, item: ArrItem, client: ArrClient, run) -> str | None:
    number = _season_number(request)
    resource = run("GET", f"series/{item.arr_id}", lambda: client.series_raw(item.arr_id))
    for season in resource.get("seasons") or []:
        if season.get("seasonNumber") == number:
            season["monitored"] = False
    run("PUT", f"series/{item.arr_id}", lambda: client.series_put(item.arr_id, resource))
    check = run("GET", f"series/{item.arr_id}", lambda: client.series_raw(item.arr_id))
    seasons = {s.get("seasonNumber"): s.get("monitored") for s in check.get("seasons") or []}
    if seasons.get(number) is not False:
        raise Refused(
            f"Sonarr did not confirm that season {number} is unmonitored; no file was deleted."
        )
    files = run(
        "GET", f"episodefile?seriesId={item.arr_id}", lambda: client.episode_files(item.arr_id)
    )
    mine = [f for f in files if f.season_number == number]
    _files_delete(item, client, run, [f.id for f in mine])
    return item.server.plex_path(posixpath.dirname(mine[0].path) if mine else item.path)


def _season_number(request: DeletionRequest) -> int:
    group, _ = _group_items(request)
    if group is None or group.season_number is None:
        raise Refused("The season is no longer in the Plex mirror; nothing was deleted.")
    return group.season_number


def _files_delete(item: ArrItem, client: ArrClient, run, file_ids: list[int]) -> None:
    """Delete files one by one; on a failure, say which were deleted and mark those
    episodes gone in the mirror (a retry will not find them again)."""
    done: list[int] = []
    try:
        for file_id in file_ids:
            run(
                "DELETE",
                f"episodefile/{file_id}",
                lambda f=file_id: client.episode_file_delete(f),
                already=_gone,
            )
            done.append(file_id)
    except ArrError as exc:
        _episodes_gone(item, done)
        listed = ", ".join(map(str, done)) or "none"
        raise ArrError(
            f"{len(done)} of {len(file_ids)} files deleted (ids {listed}) before: {exc}"
        ) from None


def _episodes_gone(item: ArrItem, file_ids: list[int]) -> None:
    if not file_ids:
        return
    keys = ArrEpisode.objects.filter(series=item, file_id__in=file_ids, media_item__isnull=False)
    MediaItem.objects.filter(pk__in=keys.values("media_item_id"), removed_at__isnull=True).update(
        removed_at=timezone.now()
    )


def _episode(request, item: ArrItem, client: ArrClient, run) -> str | None:
    rows = list(
        ArrEpisode.objects.filter(
            series=item,
            media_item__server_id=request.server_id,
            media_item__plex_id=request.plex_id,
        )
    )
    if not rows:
        raise Refused("Sonarr holds the show but not this episode; nothing was deleted.")
    ids = [r.arr_id for r in rows]
    run("PUT", "episode/monitor", lambda: client.episodes_monitor(ids, monitored=False))
    _files_delete(item, client, run, sorted({r.file_id for r in rows if r.file_id}))
    path = next((r.file_path for r in rows if r.file_path), None)
    return posixpath.dirname(path) if path else None


_REMOVERS = {Level.MOVIE: _movie, Level.SHOW: _show, Level.SEASON: _season, Level.EPISODE: _episode}


def calls_summary(calls: list[RemovalCall]) -> str:
    """Each system's share of the calls, in order: "Sonarr “TV”: 12 calls, then Plex
    “Home”: 1 call" (the audit message counts the *arr's alone: "(12 calls)")."""
    counts = Counter((call.system, call.instance) for call in calls)  # in first-call order
    return ", then ".join(
        f"{system.capitalize()}{f' “{instance}”' if instance else ''}: {n} call{pluralize(n)}"
        for (system, instance), n in counts.items()
    )


def removal_calls_attach(*, entries) -> None:
    """Give each audit entry (or request) `.calls_made`: the calls of its group in its run,
    in order, and `.calls_summary` (calls_summary). One query for the whole page, whatever
    its size."""
    entries = list(entries)
    request_ids = {e.request_id if hasattr(e, "request_id") else e.pk for e in entries}
    by_key: dict[tuple[int, int | None], list[RemovalCall]] = {}
    for call in RemovalCall.objects.filter(request_id__in=request_ids - {None}):
        by_key.setdefault((call.request_id, call.run_id), []).append(call)
    for entry in entries:
        if isinstance(entry, DeletionRequest):
            entry.calls_made = by_key.get((entry.pk, entry.run_id), [])
        else:
            entry.calls_made = by_key.get((entry.request_id, entry.run_id), [])
        entry.calls_summary = calls_summary(entry.calls_made)
