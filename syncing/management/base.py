"""The part every sync command shares, written once: `--server NAME`, the connections from
the environment, "every enabled target, or the one named" with a clear error when there is
none, a run that is already going as a one-line error, and one error naming every failure."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import models

from syncing.kinds import run_kind
from syncing.models import SyncRun
from syncing.runs import SyncAlreadyRunning
from syncing.services.connections import connections_none_reason, connections_sync_from_env


class ConnectionsCommand(BaseCommand):
    """Works on the enabled connections of one system (or `--server NAME`).

    Subclasses set `kind` (whose `RunKind.targets` are the enabled connections), `model`,
    `system` and `env` (the URL and key variables named when nothing is configured), add
    their options in `add_options` and run one target in `sync_one`.
    """

    kind: str
    model: type[models.Model]
    system: str
    noun = "server"
    env: tuple[str, str]
    failed_prefix = ""  # before the list of failures, e.g. "Tautulli sync failed – "

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--server", default=None, help=f"only this {self.system} {self.noun} (default: all)"
        )
        self.add_options(parser)

    def add_options(self, parser) -> None:
        """The command's own options."""

    def handle(self, *args: Any, server: str | None = None, **options: Any) -> None:
        targets = self.targets(server)
        failures = [
            f"{target.name}: {run.error}"
            for target in targets
            if (run := self.run_one(target, **options)).status != SyncRun.Status.SUCCESS
        ]
        if failures:
            raise CommandError(self.failed_prefix + "; ".join(failures))

    def targets(self, name: str | None) -> list:
        """The enabled targets, or the one named; a clear error when there is none."""
        connections_sync_from_env()
        if name:
            named = list(self.model.objects.filter(name=name))
            if not named:
                raise CommandError(f"No {self.system} {self.noun} named {name!r}.")
            return named
        targets = run_kind(self.kind).enabled_targets()
        if not targets:
            url_var, key_var = self.env
            reason = connections_none_reason(
                system=self.system, url_var=url_var, key_var=key_var, model=self.model
            )
            raise CommandError(reason)
        return targets

    def run_one(self, target: Any, **options: Any) -> SyncRun:
        try:
            return self.sync_one(target, **options)
        except SyncAlreadyRunning as exc:
            raise CommandError(f"{target.name}: {exc}") from None

    def sync_one(self, target: Any, **options: Any) -> SyncRun:
        raise NotImplementedError
