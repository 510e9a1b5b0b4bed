"""Compact, in-memory Tautulli watch history for the simulator (a million rows fit easily).

Rows live in parallel `array`s in `row_id` order (Tautulli writes a row when a stream stops),
plus an index sorted by `started`, so a date window is two bisects, as cheap as on the server.
"""

from __future__ import annotations

import random
import time
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

WATCHED_PERCENT = 85  # Tautulli's default movie/tv_watched_percent


@dataclass(frozen=True)
class Target:
    """What a history row needs to know about the item that was played (a Plex leaf)."""

    rating_key: int
    media_type: str  # "movie" | "episode"
    title: str
    guid: str = ""
    duration_ms: int = 1_800_000
    parent_rating_key: int | None = None
    grandparent_rating_key: int | None = None
    parent_title: str = ""
    grandparent_title: str = ""
    season_number: int | None = None
    episode_number: int | None = None
    year: int | None = None
    section_id: int | None = None


@dataclass(frozen=True)
class User:
    user_id: int
    user: str
    friendly_name: str
    platform: str
    player: str
    ip_address: str
    email: str = ""
    keep_history: int = 1
    is_active: int = 1


def watched_status(percent: int) -> float:
    """Tautulli's watched value for a progress percentage (no credits markers)."""
    for fraction in (1.0, 0.75, 0.5, 0.25):
        if percent >= WATCHED_PERCENT * fraction:
            return 1 if fraction == 1.0 else fraction
    return 0


def make_targets(
    *, movies: int, shows: int, seasons: int = 2, episodes: int = 10, first_key: int = 1000
) -> list[Target]:
    """Movies and show episodes with distinct rating keys (a stand-in for a Plex library)."""
    out: list[Target] = []
    key = first_key
    for m in range(movies):
        key += 1
        out.append(
            Target(
                key,
                "movie",
                f"Movie {m}",
                f"plex://movie/m{m:08d}",
                6_600_000,
                year=2000 + m % 25,
                section_id=1,
            )
        )
    for s in range(shows):
        key += 1
        show_key = key
        for n in range(1, seasons + 1):
            key += 1
            season_key = key
            for e in range(1, episodes + 1):
                key += 1
                out.append(
                    Target(
                        key,
                        "episode",
                        f"Episode {e}",
                        f"plex://episode/s{s:05d}n{n:02d}e{e:03d}",
                        1_800_000,
                        season_key,
                        show_key,
                        f"Season {n}",
                        f"Show {s}",
                        n,
                        e,
                        2010 + s % 15,
                        2,
                    )
                )
    return out


class History:
    """All history rows of one simulated Tautulli, in compact typed arrays."""

    def __init__(self, targets: Iterable[Any] = ()) -> None:
        self.targets: list[Any] = []
        self.target_index: dict[int, int] = {}
        self.users: list[User] = []
        self.user_index: dict[str, int] = {}
        self.t = array("i")  # target index
        self.u = array("i")  # user index
        self.started = array("q")
        self.play = array("i")  # play_duration seconds (pauses excluded)
        self.paused = array("i")
        self.pct = array("b")
        self.ref = array("q")
        self._last: dict[int, int] = {}  # (user, target) -> last row index, for grouping
        self._order = array("i")  # row indexes sorted by started
        self._order_started = array("q")
        self._dirty = False
        for target in targets:
            self.target_for(target)

    def __len__(self) -> int:
        return len(self.t)

    def target_for(self, target: Any) -> int:
        idx = self.target_index.get(int(target.rating_key))
        if idx is None:
            idx = len(self.targets)
            self.targets.append(target)
            self.target_index[int(target.rating_key)] = idx
        return idx

    def user_for(self, name: str, *, user_id: int | None = None, friendly_name: str = "") -> int:
        idx = self.user_index.get(name)
        if idx is None:
            idx = len(self.users)
            self.users.append(
                User(
                    user_id if user_id is not None else 100_001 + idx,
                    name,
                    friendly_name or name,
                    ("Roku", "Chrome", "Android", "Apple TV")[idx % 4],
                    f"Player {idx}",
                    f"192.168.{idx // 250}.{idx % 250 + 2}",
                    f"{name}@example.test",
                )
            )
            self.user_index[name] = idx
        return idx

    def append(
        self, t: int, u: int, started: int, play: int, paused: int, pct: int, ref: int | None
    ) -> int:
        """Write one row as Tautulli does at stop time; returns its row_id.

        Without an explicit `ref` the row joins the previous row of the same user and item
        when that one was not watched and this one got at least as far (Tautulli's rule).
        """
        idx = len(self.t)
        key = u * 10_000_000 + t
        if ref is None:
            prev = self._last.get(key)
            if prev is not None and watched_status(self.pct[prev]) != 1 and pct >= self.pct[prev]:
                ref = self.ref[prev]
            else:
                ref = idx + 1
        self._last[key] = idx
        self.t.append(t)
        self.u.append(u)
        self.started.append(started)
        self.play.append(play)
        self.paused.append(paused)
        self.pct.append(pct)
        self.ref.append(ref)
        self._dirty = True
        return idx + 1

    def stopped(self, i: int) -> int:
        return self.started[i] + self.play[i] + self.paused[i]

    def _sort(self) -> None:
        if self._dirty:
            started = self.started
            order = sorted(range(len(started)), key=started.__getitem__)
            self._order = array("i", order)
            self._order_started = array("q", (started[i] for i in order))
            self._dirty = False

    def by_started(self, lo: int | None = None, hi: int | None = None) -> array:
        """Row indexes with lo <= started < hi, ascending by started."""
        self._sort()
        a = 0 if lo is None else bisect_left(self._order_started, lo)
        b = len(self._order) if hi is None else bisect_left(self._order_started, hi)
        return self._order[a:b]


def generate_history(
    targets: Iterable[Any],
    *,
    users: int,
    rows: int,
    days: int,
    seed: int = 0,
    end: int | None = None,
) -> History:
    """A deterministic history: several users, resumed sessions, rewatches and pauses.

    Starts are spread over `days` days before `end` (epoch seconds, default now); rows are
    written in stop order, so `row_id` follows stop time as on a real server.
    """
    history = History(targets)
    n_targets = len(history.targets)
    if not n_targets:
        raise ValueError("generate_history needs at least one target")
    rng = random.Random(seed)
    end = int(time.time()) if end is None else end
    span = days * 86_400
    user_idx = [history.user_for(f"user{n:03d}") for n in range(users)]
    starts = array("q", sorted(end - span + rng.randrange(span - 7200) for _ in range(rows)))
    ts, us, plays, pauses, pcts = array("i"), array("i"), array("i"), array("i"), array("b")
    open_sessions: dict[int, tuple[int, int]] = {}
    for _ in range(rows):
        u = user_idx[rng.randrange(users)]
        prev_pct = 0
        if u in open_sessions and rng.random() < 0.6:
            t, prev_pct = open_sessions.pop(u)
            pct = rng.randint(prev_pct + 1, 100)
        else:
            t = int(n_targets * rng.random() ** 2)  # a few items are much more popular
            pct = rng.randint(88, 100) if rng.random() < 0.7 else rng.randint(5, 80)
        if pct < WATCHED_PERCENT:
            open_sessions[u] = (t, pct)
        length = max(getattr(history.targets[t], "duration_ms", 0) or 1_800_000, 600_000) // 1000
        ts.append(t)
        us.append(u)
        plays.append(max(120, (pct - prev_pct) * length // 100))
        pauses.append(0 if rng.random() < 0.6 else rng.randint(10, 900))
        pcts.append(pct)
    stops = [starts[i] + plays[i] + pauses[i] for i in range(rows)]
    for i in sorted(range(rows), key=stops.__getitem__):
        history.append(ts[i], us[i], starts[i], plays[i], pauses[i], pcts[i], None)
    return history
