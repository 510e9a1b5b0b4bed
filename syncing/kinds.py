"""Every kind of run, in the order `sync_all` runs them: what work it does, on which targets,
and which lock it shares.

Adding an integration: a `SyncRun.Kind` choice, a work function `def x_work(ctx:
RunContext) -> None` in its service module, and one line here (CONTRIBUTING.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class RunKind:
    """How to run one kind: the dotted path of its work function, and its targets."""

    work: str
    targets: str = ""  # dotted path of a function returning the enabled targets for sync_all
    lock: str = ""  # lock group; kinds sharing one never run together on a target
    lock_detail: str = ""  # an input that splits the lock further (one item of many)
    # False: the kind writes nothing that the candidates, the queue or the dashboard read,
    # so the after-run receivers skip their refreshes (~0.3 s after a 10k-movie sync_arr);
    # a run that moved the storage capacity says so in details["capacity_changed"].
    library: bool = True

    def work_function(self) -> Callable[[Any], None]:
        return _resolve(self.work)

    def enabled_targets(self) -> list:
        return list(_resolve(self.targets)()) if self.targets else []

    def lock_key(self, target, inputs: dict[str, Any]) -> str:
        key = f"{self.lock}:{target.pk}"
        return f"{key}:{inputs[self.lock_detail]}" if self.lock_detail else key


def _resolve(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def _synced(name: str, module: str, library: bool = True) -> RunKind:
    """A kind of `sync_all`: its work `<module>.<name>_sync_work`, its targets
    `syncing.selectors.<name>_servers_for_sync`, its own lock."""
    return RunKind(
        work=f"syncing.services.{module}.{name}_sync_work",
        targets=f"syncing.selectors.{name}_servers_for_sync",
        lock=name,
        library=library,
    )


# Order matters: Plex before Tautulli, so new items exist before history is matched to them;
# Radarr/Sonarr after Plex (what they hold is linked to the items Plex just listed); Seerr
# after Tautulli (requests link to the users it just refreshed).
RUN_KINDS: dict[str, RunKind] = {
    "plex": _synced("plex", "plex_sync"),
    "tautulli": _synced("tautulli", "tautulli_sync"),
    "arr": _synced("arr", "arr_sync", library=False),
    "seerr": _synced("seerr", "seerr_sync"),
    # Not part of sync_all (no targets): the light Plex sync (its own schedule, `sync_plex
    # --changed`) and a batch of Plex's notifications (`plex_events`). Both share the full
    # sync's lock, so none of the three ever runs alongside another on a server.
    "plex_changes": RunKind(work="syncing.services.plex_changes.plex_changes_work", lock="plex"),
    "plex_events": RunKind(work="syncing.services.plex_refresh.plex_events_work", lock="plex"),
    # Not part of sync_all (no targets): one item's history, queued by the webhook.
    "tautulli_item": RunKind(
        work="syncing.services.tautulli_sync.tautulli_item_sync_work",
        lock="tautulli_item",
        lock_detail="plex_id",
    ),
}


def run_kind(kind: str) -> RunKind:
    return RUN_KINDS[kind]
