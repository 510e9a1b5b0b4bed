"""A Tautulli `/api/v2` simulator over real HTTP on 127.0.0.1, for tests, benchmarks and demos.

It answers with the wire format recorded in docs/tautulli-api-notes.md: the
`response.result/message/data` envelope, HTTP 400 for auth/validation errors, 500 "Check the
logs for errors" when a command raises, `get_history` rows with their real names and types
(ints for keys, "" for a movie's parent keys), date filters on the play's START day in the
server's timezone, filtering of every row followed by a Python slice (so `length=-1` drops the
last row, as on the real server). Faults (HTTP status, `result: error`, malformed JSON, delay)
can be injected, and every request is counted and recorded.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simulators.base import SimulatorHandler, SimulatorServer, last_values, take_fault
from simulators.tautulli_history import (
    History,
    Target,
    generate_history,
    make_targets,
    watched_status,
)

__all__ = ["Fault", "History", "Target", "TautulliSimulator", "generate_history", "make_targets"]

_JSON = "application/json;charset=UTF-8"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMMANDS = (
    "arnold",
    "get_history",
    "get_item_watch_time_stats",
    "get_library_names",
    "get_server_info",
    "get_tautulli_info",
    "get_users",
    "status",
)


class _CommandCrashed(Exception):
    """A command raised: the real server answers 500 "Check the logs for errors"."""


class _BadRequest(Exception):
    """Validation failure: HTTP 400 with `result: error` and this message."""

    def __init__(self, message: str | None):
        super().__init__(message)
        self.message = message


@dataclass
class Fault:
    """One injected fault, applied to matching requests from request number `at` on."""

    status: int | None = None  # HTTP status with an error envelope
    error: str | None = None  # HTTP 200 with result "error" and this message
    malformed: bool = False  # HTTP 200 with a body that is not JSON
    body: bytes | None = None  # HTTP 200 with exactly this body
    delay: float = 0.0  # seconds to sleep before answering
    at: int = 0  # first request number (1-based) it applies to; 0 = the next one
    cmd: str | None = None  # only this command
    count: int | None = 1  # how many times; None = forever


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _CommandCrashed from None


def _int_set(value: str | None) -> set[int] | None:
    if not value:
        return None
    return {_int(v.strip()) for v in value.split(",") if v.strip()}


def _str_set(value: str | None) -> set[str] | None:
    if not value:
        return None
    return {v.strip() for v in value.split(",") if v.strip()}


def _human_duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    parts = [f"{days} days"] if days else []
    parts += [f"{hours} hrs"] if hours else []
    return " ".join([*parts, f"{rest // 60} mins"])


class TautulliHandler(SimulatorHandler):
    """`/api/v2` (query and form parameters) goes to `TautulliSimulator.handle`; large
    answers are gzipped when the client accepts it, as the real server (CherryPy) does."""

    sim: TautulliSimulator

    def do_GET(self) -> None:
        path, params = self.split_url()
        if path.rstrip("/") != "/api/v2":
            self.answer(404, b"Not Found", "text/plain")
            return
        params.update(last_values(self.read_body().decode("utf-8", "replace")))
        status, payload = self.sim.handle(params)
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if "gzip" in self.headers.get("Accept-Encoding", "") and len(raw) > 1024:
            gzipped = gzip.compress(raw, compresslevel=1)
            self.answer(status, gzipped, _JSON, [("Content-Encoding", "gzip")])
        else:
            self.answer(status, raw, _JSON)

    do_POST = do_GET


class TautulliSimulator(SimulatorServer):
    """A running fake Tautulli. Use as a context manager or call start()/stop()."""

    handler_class = TautulliHandler

    def __init__(
        self,
        *,
        api_key: str = "sim-tautulli-key-0123456789",
        tz: str = "UTC",
        history: History | None = None,
        server_name: str = "Simulated Plex",
    ) -> None:
        self.api_key = api_key
        self.tz = ZoneInfo(tz)
        self.history = history or History()
        self.server_name = server_name
        self.activity: list[dict[str, Any]] = []
        self.requests: list[dict[str, str]] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()

    @property
    def request_count(self) -> int:
        return len(self.requests)

    # --- data helpers ----------------------------------------------------------------
    def add_play(
        self,
        *,
        target: Any,
        user: str = "alice",
        started: datetime | int,
        play_seconds: int = 1800,
        paused_seconds: int = 0,
        percent: int = 100,
        reference_id: int | None = None,
        user_id: int | None = None,
    ) -> int:
        """Write one history row (as when a stream stops); returns its row_id.

        A resumed session joins the previous row's group automatically (Tautulli's rule:
        same user and item, previous not watched, progress not going back), or pass
        `reference_id`.
        """
        epoch = int(started.timestamp()) if isinstance(started, datetime) else int(started)
        with self._lock:
            h = self.history
            return h.append(
                h.target_for(target),
                h.user_for(user, user_id=user_id),
                epoch,
                play_seconds,
                paused_seconds,
                percent,
                reference_id,
            )

    def set_user(self, name: str, **fields: Any) -> None:
        """Create or change a user: `email`, `friendly_name`, `keep_history` (0/1), `user_id`,
        `is_active` (as edited in Tautulli's user settings)."""
        with self._lock:
            h = self.history
            idx = h.user_for(name, user_id=fields.get("user_id"))
            h.users[idx] = replace(h.users[idx], **fields)

    def add_activity(self, *, target: Any, user: str = "alice", started: datetime) -> None:
        """A stream in progress: get_history adds it unless include_activity=0."""
        with self._lock:
            h = self.history
            t, u = h.target_for(target), h.user_for(user)
        row = self._row_dict(t, u, int(started.timestamp()), 60, 0, 5, None, None)
        row.update(state="playing", session_key=len(self.activity) + 1)
        self.activity.append(row)

    def fault(self, **kwargs: Any) -> Fault:
        """Inject a fault (see `Fault`); returns it."""
        fault = Fault(**kwargs)
        if not fault.at:
            fault.at = self.request_count + 1
        self.faults.append(fault)
        return fault

    # --- request handling ------------------------------------------------------------
    def handle(self, params: dict[str, str]) -> tuple[int, bytes | dict]:
        """Answer one API call: (HTTP status, envelope dict or raw bytes)."""
        with self._lock:
            self.requests.append(dict(params))
            number = len(self.requests)
        cmd = params.get("cmd", "")
        fault = self._take_fault(number, cmd)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.body is not None:
                return 200, fault.body
            if fault.malformed:
                return 200, b'{"response": {"result": "success", "data": [{"row_id": 1,'
            if fault.status:
                return fault.status, _envelope("error", "Simulated failure", {})
            if fault.error:
                return 200, _envelope("error", fault.error, {})
        if "apikey" not in params:
            return 400, _envelope("error", "Parameter apikey is required", {})
        if params["apikey"] != self.api_key:
            return 400, _envelope("error", "Invalid apikey", {})
        if cmd not in _COMMANDS:
            possible = ", ".join(_COMMANDS)
            return 400, _envelope(
                "error", f"Unknown command: {cmd}. Possible commands are: {possible}", {}
            )
        try:
            data = getattr(self, f"_cmd_{cmd}")(params)
        except _BadRequest as exc:
            return 400, _envelope("error", exc.message, {})
        except Exception:
            return 500, _envelope("error", "Check the logs for errors", {})
        message = "Ok" if cmd == "status" else None
        return 200, _envelope("success", message, data)

    def _take_fault(self, number: int, cmd: str) -> Fault | None:
        return take_fault(
            self.faults, self._lock, lambda f: number >= f.at and f.cmd in (None, cmd)
        )

    # --- commands --------------------------------------------------------------------
    def _cmd_status(self, params: dict[str, str]) -> dict:
        return {}

    def _cmd_arnold(self, params: dict[str, str]) -> str:
        return "I'll be back."

    def _cmd_get_server_info(self, params: dict[str, str]) -> dict:
        return {
            "pms_identifier": "0123456789abcdef0123456789abcdef01234567",
            "pms_ip": "127.0.0.1",
            "pms_is_remote": 0,
            "pms_name": self.server_name,
            "pms_platform": "Linux",
            "pms_plexpass": 1,
            "pms_port": 32400,
            "pms_ssl": 0,
            "pms_url": "http://127.0.0.1:32400",
            "pms_url_manual": 0,
            "pms_version": "1.41.0.8992",
        }

    def _cmd_get_tautulli_info(self, params: dict[str, str]) -> dict:
        return {
            "tautulli_install_type": "simulator",
            "tautulli_version": "v2.17.2",
            "tautulli_branch": "master",
            "tautulli_platform": "Linux",
            "tautulli_python_version": "3.11",
        }

    def _cmd_get_library_names(self, params: dict[str, str]) -> list[dict]:
        sections: dict[int, str] = {}
        for target in self.history.targets:
            kind = "movie" if target.media_type == "movie" else "show"
            sections.setdefault(_section_id(target), kind)
        return [
            {
                "section_id": sid,
                "section_name": "Movies" if kind == "movie" else "TV Shows",
                "section_type": kind,
                "agent": "tv.plex.agents." + kind,
            }
            for sid, kind in sorted(sections.items())
        ]

    def _cmd_get_item_watch_time_stats(self, params: dict[str, str]) -> list[dict]:
        if not params.get("rating_key"):
            raise _BadRequest(None)
        key = _int(params["rating_key"])
        grouped = params.get("grouping", "1") != "0"
        days = [_int(d) for d in params.get("query_days", "1,7,30,0").split(",") if d]
        h = self.history
        matching = {
            i
            for i, tg in enumerate(h.targets)
            if key in (tg.rating_key, tg.parent_rating_key, tg.grandparent_rating_key)
        }
        now = time.time()
        out = []
        for d in days:
            rows = [
                i
                for i in range(len(h))
                if h.t[i] in matching and (d == 0 or h.stopped(i) >= now - d * 86_400)
            ]
            plays = len({h.ref[i] for i in rows}) if grouped else len(rows)
            out.append(
                {"query_days": d, "total_time": sum(h.play[i] for i in rows), "total_plays": plays}
            )
        return out

    def _cmd_get_users(self, params: dict[str, str]) -> list[dict]:
        """Tautulli's users table, with its built-in "Local" user (user_id 0) first."""
        local = {"user_id": 0, "username": "Local", "friendly_name": "Local", "email": None}
        with self._lock:
            users = [
                {
                    "user_id": u.user_id,
                    "username": u.user,
                    "friendly_name": u.friendly_name,
                    "email": u.email or None,
                    "is_active": u.is_active,
                    "keep_history": u.keep_history,
                }
                for u in self.history.users
            ]
        return [_user_dict(n, row) for n, row in enumerate([local, *users])]

    def _cmd_get_history(self, params: dict[str, str]) -> dict:
        start = _int(params.get("start", "0"))
        length = _int(params.get("length", "25"))
        grouped = params.get("grouping", "1") != "0"
        with self._lock:
            rows = self._filtered(params)
            if grouped:
                groups = self._groups(rows)
                ordered = self._ordered_groups(groups, params)
            else:
                ordered = self._ordered(rows, params)
            activity = list(self.activity) if params.get("include_activity", "1") != "0" else []
            h = self.history
            total_seconds = sum(h.play[i] for i in rows)
            page_items = ([("a", a) for a in activity] + [("r", r) for r in ordered])[
                start : start + length
            ]
            data = [self._page_row(kind, item, grouped) for kind, item in page_items]
            records_total = len(h)
        page_seconds = sum(r["play_duration"] for r in data)
        return {
            "recordsFiltered": len(ordered) + len(activity),
            "recordsTotal": records_total,
            "draw": 1,
            "total_duration": _human_duration(total_seconds),
            "filter_duration": _human_duration(page_seconds),
            "data": data,
        }

    # --- get_history internals -------------------------------------------------------
    def _day_start(self, day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp())

    def _local_day(self, epoch: int) -> str:
        return datetime.fromtimestamp(epoch, self.tz).strftime("%Y-%m-%d")

    def _filtered(self, params: dict[str, str]) -> list[int]:
        """Every row index matching the filters, ascending by started (like the SQL query)."""
        h = self.history
        after, before = params.get("after", ""), params.get("before", "")
        start_dates = _str_set(params.get("start_date"))
        lo = hi = None
        text_checks: list[Callable[[str], bool]] = []
        if after:
            if _DATE_RE.match(after):
                lo = self._day_start(date.fromisoformat(after))
            else:
                text_checks.append(lambda d: d >= after)
        if before:
            if _DATE_RE.match(before):
                hi = self._day_start(date.fromisoformat(before) + timedelta(days=1))
            else:
                text_checks.append(lambda d: d <= before)
        rows: list[int] = list(h.by_started(lo, hi)) if lo is None or hi is None or lo < hi else []
        if start_dates:
            rows = [i for i in rows if self._local_day(h.started[i]) in start_dates]
        if text_checks:
            rows = [i for i in rows if all(c(self._local_day(h.started[i])) for c in text_checks)]
        return self._filter_attributes(rows, params)

    def _filter_attributes(self, rows: list[int], params: dict[str, str]) -> list[int]:
        h = self.history
        keys = {
            name: _int_set(params.get(name))
            for name in ("rating_key", "parent_rating_key", "grandparent_rating_key", "section_id")
        }
        media_types = _str_set(params.get("media_type"))
        guid = params.get("guid", "").split("?")[0]
        if any(v is not None for v in keys.values()) or media_types or guid:
            allowed = {
                idx
                for idx, tg in enumerate(h.targets)
                if all(
                    wanted is None or _attr_int(tg, name) in wanted for name, wanted in keys.items()
                )
                and (not media_types or tg.media_type in media_types)
                and (not guid or (tg.guid or "").startswith(guid))
            }
            rows = [i for i in rows if h.t[i] in allowed]
        user_ids, usernames = _int_set(params.get("user_id")), _str_set(params.get("user"))
        if user_ids or usernames:
            allowed_users = {
                idx
                for idx, us in enumerate(h.users)
                if (not user_ids or us.user_id in user_ids)
                and (not usernames or us.user in usernames)
            }
            rows = [i for i in rows if h.u[i] in allowed_users]
        if ref := params.get("reference_id"):
            wanted_ref = _int(ref)
            rows = [i for i in rows if h.ref[i] == wanted_ref]
        if search := params.get("search", "").lower():
            rows = [i for i in rows if search in self._search_text(i)]
        return rows

    def _search_text(self, i: int) -> str:
        h = self.history
        tg, us = h.targets[h.t[i]], h.users[h.u[i]]
        return " ".join(
            (us.friendly_name, us.ip_address, us.platform, us.player, _full_title(tg))
        ).lower()

    def _sort_keys(self, params: dict[str, str]) -> list[tuple[Callable[[int], Any], bool]] | None:
        """(key, descending) per valid order column; None means "no ORDER BY" (id order)."""
        h = self.history
        columns = [c.strip() for c in params.get("order_column", "date").split(",")]
        dirs = [d.strip().lower() for d in params.get("order_dir", "desc").split(",")]
        by_user = lambda field: lambda i: getattr(h.users[h.u[i]], field).lower()  # noqa: E731
        key_funcs: dict[str, Callable[[int], Any]] = {
            "date": h.started.__getitem__,
            "started": h.started.__getitem__,
            "stopped": h.stopped,
            "paused_counter": h.paused.__getitem__,
            "duration": lambda i: getattr(h.targets[h.t[i]], "duration_ms", 0) or 0,
            "full_title": lambda i: _full_title(h.targets[h.t[i]]).lower(),
            "friendly_name": by_user("friendly_name"),
            "ip_address": by_user("ip_address"),
            "platform": by_user("platform"),
            "product": by_user("platform"),
            "player": by_user("player"),
        }
        keys = []
        for n, column in enumerate(columns):
            if column in key_funcs:
                direction = dirs[n] if n < len(dirs) else "desc"
                keys.append((key_funcs[column], direction != "asc"))
        return keys or None

    def _ordered(self, rows: list[int], params: dict[str, str]) -> list[int]:
        keys = self._sort_keys(params)
        if keys is None:
            return sorted(rows)
        if len(keys) == 1 and keys[0][0] == self.history.started.__getitem__:
            return rows[::-1] if keys[0][1] else rows  # already ascending by started
        for key, descending in reversed(keys):
            rows.sort(key=key, reverse=descending)
        return rows

    def _groups(self, rows: list[int]) -> list[list[int]]:
        by_ref: dict[int, list[int]] = {}
        for i in rows:
            by_ref.setdefault(self.history.ref[i], []).append(i)
        return list(by_ref.values())

    def _ordered_groups(self, groups: list[list[int]], params: dict[str, str]) -> list[list[int]]:
        keys = self._sort_keys(params)
        h = self.history
        if keys is None:
            return sorted(groups, key=min)
        for key, descending in reversed(keys):
            if key == h.started.__getitem__:  # date = MAX(started) of the group
                groups.sort(key=lambda g: max(h.started[i] for i in g), reverse=descending)
            else:
                groups.sort(key=lambda g, k=key: k(max(g)), reverse=descending)
        return groups

    def _page_row(self, kind: str, item: Any, grouped: bool) -> dict[str, Any]:
        h = self.history
        if kind == "a":
            return item
        members = item if grouped else [item]
        rep = max(members)
        started = [h.started[i] for i in members]
        row = self._row_dict(
            h.t[rep],
            h.u[rep],
            min(started),
            sum(h.play[i] for i in members),
            sum(h.paused[i] for i in members),
            max(h.pct[i] for i in members),
            rep + 1,
            h.ref[rep],
        )
        if grouped:
            row.update(
                date=max(started),
                stopped=max(h.stopped(i) for i in members),
                group_count=len(members),
                group_ids=",".join(str(i + 1) for i in sorted(members)),
            )
        return row

    def _row_dict(
        self,
        t: int,
        u: int,
        started: int,
        play: int,
        paused: int,
        pct: int,
        row_id: int | None,
        ref: int | None,
    ) -> dict[str, Any]:
        tg, us = self.history.targets[t], self.history.users[u]
        movie = tg.media_type == "movie"
        parent = "" if movie else (tg.parent_rating_key or "")
        grandparent = "" if movie else (tg.grandparent_rating_key or "")
        return {
            "reference_id": ref,
            "row_id": row_id,
            "id": row_id,
            "date": started,
            "started": started,
            "stopped": started + play + paused,
            "duration": play,
            "play_duration": play,
            "paused_counter": paused,
            "user_id": us.user_id,
            "user": us.user,
            "friendly_name": us.friendly_name,
            "user_thumb": "interfaces/default/images/gravatar-default-80x80.png",
            "platform": us.platform,
            "product": f"Plex for {us.platform}",
            "player": us.player,
            "ip_address": us.ip_address,
            "live": 0,
            "machine_id": f"machine{u:04d}",
            "location": "lan",
            "secure": 0,
            "relayed": 0,
            "media_type": tg.media_type,
            "rating_key": int(tg.rating_key),
            "parent_rating_key": parent,
            "grandparent_rating_key": grandparent,
            "full_title": _full_title(tg),
            "title": tg.title,
            "parent_title": "" if movie else (tg.parent_title or ""),
            "grandparent_title": "" if movie else (tg.grandparent_title or ""),
            "original_title": "",
            "year": getattr(tg, "year", None) or "",
            "media_index": ""
            if movie
            else (tg.episode_number if tg.episode_number is not None else ""),
            "parent_media_index": ""
            if movie
            else (tg.season_number if tg.season_number is not None else ""),
            "thumb": f"/library/metadata/{parent or tg.rating_key}/thumb/1600000000",
            "originally_available_at": f"{getattr(tg, 'year', None) or 2000}-01-01",
            "guid": tg.guid or "",
            "transcode_decision": "direct play",
            "percent_complete": pct,
            "watched_status": watched_status(pct),
            "group_count": 1,
            "group_ids": str(row_id) if row_id else "",
            "state": None,
            "session_key": None,
        }


def _attr_int(target: Any, name: str) -> int | None:
    if name == "section_id":
        return _section_id(target)
    value = getattr(target, name, None)
    return int(value) if value not in (None, "") else None


def _section_id(target: Any) -> int:
    sid = getattr(target, "section_id", None)
    return int(sid) if sid else (1 if target.media_type == "movie" else 2)


def _full_title(target: Any) -> str:
    if target.media_type == "episode" and target.grandparent_title:
        return f"{target.grandparent_title} - {target.title}"
    return target.title


def _user_dict(n: int, row: dict[str, Any]) -> dict[str, Any]:
    """One `get_users` row with every column real Tautulli returns (users.get_users)."""
    return {
        "row_id": n + 1,
        "user_id": row["user_id"],
        "username": row["username"],
        "friendly_name": row["friendly_name"],
        "thumb": "interfaces/default/images/gravatar-default-80x80.png",
        "email": row["email"],
        "is_active": row.get("is_active", 1),
        "is_admin": 1 if n == 1 else 0,
        "is_home_user": 0,
        "is_allow_sync": 0,
        "is_restricted": 0,
        "do_notify": 1,
        "keep_history": row.get("keep_history", 1),
        "allow_guest": 0,
        "server_token": None,
        "shared_libraries": ["1", "2"],
        "filter_all": "",
        "filter_movies": "",
        "filter_tv": "",
        "filter_music": "",
        "filter_photos": "",
    }


def _envelope(result: str, message: str | None, data: Any) -> dict:
    return {"response": {"result": result, "message": message, "data": data}}
