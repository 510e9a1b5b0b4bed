"""The Tautulli client: the only module that speaks `/api/v2`.

Calls are POSTs with the parameters in the form body, so the API key never appears in a URL
(urllib3 logs URLs when it retries). Every failure — unreachable, timeout, HTTP error,
`result: "error"`, malformed JSON, unexpected shape — becomes one `TautulliError` whose
message is Tautulli's own when it gave one, with the key masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from syncing.clients.errors import SECRET_MASK, ClientError
from syncing.clients.http import ApiClient, retrying_session

API_PATH = "/api/v2"
MASK = SECRET_MASK


class TautulliError(ClientError):
    """Anything that went wrong talking to Tautulli, with a clear, key-free message."""


@dataclass(slots=True)
class HistoryRow:
    """One `get_history` row (grouping=0): one stream session, keyed on `row_id`.

    Not frozen: a frozen dataclass sets each field through object.__setattr__, a fifth of
    the cost of converting a row, and a full import converts a million of them.
    """

    row_id: int
    reference_id: int | None
    plex_id: int | None
    parent_plex_id: int | None
    grandparent_plex_id: int | None
    media_type: str
    user_id: int | None
    user: str
    started: int  # epoch seconds
    stopped: int | None
    play_duration: int
    paused_counter: int
    percent_complete: int | None
    watched_status: float | None
    guid: str
    title: str


@dataclass(frozen=True, slots=True)
class UserRow:
    """One `get_users` row: the account, and whether Tautulli keeps its history."""

    user_id: int
    username: str
    friendly_name: str
    email: str
    keep_history: bool
    is_active: bool


@dataclass(frozen=True, slots=True)
class HistoryPage:
    rows: list[HistoryRow]
    records_filtered: int
    records_total: int
    raw_count: int  # rows in the answer, including skipped live-activity rows


def _opt_int(value: Any) -> int | None:
    """Tautulli sends "" (not null) for keys a row lacks, e.g. a movie's parent keys."""
    if value is None or value == "":
        return None
    return int(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def history_row(raw: dict[str, Any]) -> HistoryRow | None:
    """Convert one JSON row; None for live-activity rows (no row_id).

    `get` is bound once and the fields are passed by position (HistoryRow's order): a full
    import converts a million rows, and keywords cost a fifth more (~3 µs a row).
    """
    get = raw.get
    row_id = get("row_id")
    if row_id is None:
        return None
    play = get("play_duration")
    return HistoryRow(
        int(row_id),
        _opt_int(get("reference_id")),
        _opt_int(get("rating_key")),  # plex_id
        _opt_int(get("parent_rating_key")),
        _opt_int(get("grandparent_rating_key")),
        str(get("media_type") or ""),
        _opt_int(get("user_id")),
        str(get("user") or ""),
        int(raw["started"]),
        _opt_int(get("stopped")),
        int(play if play not in (None, "") else get("duration") or 0),  # play_duration
        int(get("paused_counter") or 0),
        _opt_int(get("percent_complete")),
        _opt_float(get("watched_status")),
        str(get("guid") or ""),
        str(get("full_title") or get("title") or ""),  # title
    )


def user_row(raw: dict[str, Any]) -> UserRow:
    """Convert one `get_users` row; flags are 0/1 ints (or strings on old versions)."""
    username = str(raw.get("username") or "")
    return UserRow(
        user_id=int(raw["user_id"]),
        username=username,
        friendly_name=str(raw.get("friendly_name") or username),
        email=str(raw.get("email") or ""),
        keep_history=str(raw.get("keep_history", 1)) not in ("0", "False", "false"),
        is_active=str(raw.get("is_active", 1)) not in ("0", "False", "false"),
    )


class TautulliClient(ApiClient):
    """A session bound to one Tautulli server. Use as a context manager or call close()."""

    name, error = "Tautulli", TautulliError

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        session = retrying_session(
            retries=retries, backoff=backoff, methods={"GET", "POST"},
            headers={"Accept-Encoding": "gzip", "Accept": "application/json"},
        )  # fmt: skip
        super().__init__(base_url, api_key, timeout=timeout, session=session)

    def __repr__(self) -> str:
        return f"<TautulliClient {self.shown_url}{API_PATH}?apikey={MASK}>"

    def masked_url(self, cmd: str) -> str:
        return f"{self.shown_url}{API_PATH}?apikey={MASK}&cmd={cmd}"

    def call(self, cmd: str, **params: Any) -> Any:
        """Run one command and return its `data`, or raise TautulliError."""
        form = {k: v for k, v in params.items() if v is not None}
        form.update(apikey=self._api_key, cmd=cmd)
        where = self.masked_url(cmd)
        resp = self.send("POST", self.base_url + API_PATH, where=where, data=form)
        what = f"{cmd} (HTTP {resp.status_code}, {where})"
        payload = self.decoded(resp, what=what)
        try:
            response = payload["response"]
            result, message = response.get("result"), response.get("message")
        except (KeyError, TypeError, AttributeError):
            raise TautulliError(f"Tautulli sent malformed JSON for {what}") from None
        if result != "success" or resp.status_code != 200:
            detail = self._mask(str(message)) if message else "no message"
            raise TautulliError(f"Tautulli error on {cmd} (HTTP {resp.status_code}): {detail}")
        return response.get("data")

    def status(self) -> None:
        """Check the server answers and the key is right."""
        self.call("status")

    def server_info(self) -> dict[str, Any]:
        data = self.call("get_server_info")
        return data if isinstance(data, dict) else {}

    def history_page(
        self,
        *,
        start: int,
        length: int,
        after: date | None = None,
        before: date | None = None,
        plex_id: int | None = None,
        parent_plex_id: int | None = None,
        grandparent_plex_id: int | None = None,
        order_column: str = "date",
        order_dir: str = "desc",
    ) -> HistoryPage:
        """One page of ungrouped history without live activity (never length=-1).

        The key filters are Tautulli's `rating_key` / `parent_rating_key` /
        `grandparent_rating_key`: an episode's show is its grandparent, its season its parent.
        """
        if length <= 0:
            raise ValueError("length must be positive (length=-1 drops the last row)")
        data = self.call(
            "get_history",
            grouping=0,
            include_activity=0,
            start=start,
            length=length,
            after=after.isoformat() if after else None,
            before=before.isoformat() if before else None,
            rating_key=plex_id,
            parent_rating_key=parent_plex_id,
            grandparent_rating_key=grandparent_plex_id,
            order_column=order_column,
            order_dir=order_dir,
        )
        return self._history_page_from(data)

    def _history_page_from(self, data: Any) -> HistoryPage:
        try:
            raw_rows = data["data"]
            rows = [row for row in map(history_row, raw_rows) if row is not None]
            return HistoryPage(
                rows, int(data["recordsFiltered"]), int(data["recordsTotal"]), len(raw_rows)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TautulliError(
                f"Tautulli sent get_history data of an unexpected shape ({type(exc).__name__}: {self._mask(str(exc))})"
            ) from None

    def users(self) -> list[UserRow]:
        """Every user Tautulli knows (`get_users`), its built-in "Local" user (id 0) left out."""
        data = self.call("get_users")
        try:
            rows = [user_row(raw) for raw in data]
        except (KeyError, TypeError, ValueError) as exc:
            raise TautulliError(
                f"Tautulli sent get_users data of an unexpected shape ({type(exc).__name__})"
            ) from None
        return [row for row in rows if row.user_id != 0]
