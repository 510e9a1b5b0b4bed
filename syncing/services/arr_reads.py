"""Reading a Radarr/Sonarr instance for sync_arr with a few requests in flight at once.

Why: a Sonarr read is thousands of small requests (two per series), and during each round
trip this process only waits while the *arr builds its answer. With FETCH_THREADS
requests in flight, that wait overlaps with the parsing and linking done here, and the
first requests overlap with reading the Plex mirror. Answers are handed back in the order
they were asked for, so the outcome is the same as reading one at a time. Each thread has
its own client: a `requests` session is not meant to be shared between threads.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import Any

from syncing.clients.arr import ArrClient, ArrEpisode, ArrEpisodeFile, ArrSeries

FETCH_THREADS = 4  # requests in flight at once: gentle on the *arr, enough to hide waits
AHEAD = 2 * FETCH_THREADS  # series read ahead of the one being linked

SeriesRead = tuple[ArrSeries, list[ArrEpisodeFile], list[ArrEpisode]]


class ArrReader:
    """A pool of clients for one instance; use as a context manager."""

    def __init__(self, make_client: Callable[[], ArrClient]):
        self._make_client = make_client
        self._local = threading.local()
        self._clients: list[ArrClient] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="sync-arr")

    def __enter__(self) -> ArrReader:
        return self

    def __exit__(self, *exc: object) -> None:
        """Waits for the requests in flight (a failed read cancels the rest)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        for client in self._clients:
            client.close()

    @property
    def requests_made(self) -> int:
        return sum(client.requests_made for client in self._clients)

    def _client(self) -> ArrClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._make_client()
            with self._lock:
                self._clients.append(client)
        return client

    def submit(self, method: str, *args: Any) -> Future:
        """Start `ArrClient.<method>(*args)` on a pool thread; `.result()` gives its answer
        or raises its ArrError."""
        return self._pool.submit(lambda: getattr(self._client(), method)(*args))

    def per_series(self, everything: list[ArrSeries]) -> Iterator[SeriesRead]:
        """Each series with its episode files and episodes, in the order given."""

        def read(series: ArrSeries) -> SeriesRead:
            client = self._client()
            return series, client.episode_files(series.id), client.episodes(series.id)

        todo = iter(everything)
        pending = deque(self._pool.submit(read, series) for series in islice(todo, AHEAD))
        while pending:
            done = pending.popleft().result()
            pending.extend(self._pool.submit(read, series) for series in islice(todo, 1))
            yield done
