"""SmartPlex's deletion settings, kept in system_config under `deletion_settings`.

Dry run is ON until an admin turns it off: a fresh install can never delete by accident.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from media.inputs import int_in_range
from media.services import capacity_gb_clean, config_get, config_set, storage_capacity_set

logger = logging.getLogger(__name__)

DELETION_SETTINGS_KEY = "deletion_settings"
MAX_GROUPS = 1_000_000


@dataclass(frozen=True)
class DeletionSettings:
    dry_run: bool = True
    max_groups: int = 25  # per execution; above this, execution asks for confirmation
    max_gb: float = 500.0  # per execution; above this, execution asks for confirmation


def deletion_settings_get() -> DeletionSettings:
    """The stored knobs; a value of the wrong type or range falls back to its default
    (dry run on), with a warning, so a hand-edited row never breaks a page."""
    value = config_get(DELETION_SETTINGS_KEY) or {}
    default = DeletionSettings()
    if not isinstance(value, dict):
        logger.warning("system_config %s is not an object; defaults used", DELETION_SETTINGS_KEY)
        value = {}
    dry_run = value.get("dry_run", default.dry_run)
    max_groups = int_in_range(value.get("max_groups", default.max_groups), minimum=1)
    max_gb = capacity_gb_clean(value.get("max_gb", default.max_gb))
    if not isinstance(dry_run, bool) or max_groups is None or max_gb is None:
        logger.warning("system_config %s holds a bad value; defaults used", DELETION_SETTINGS_KEY)
    return DeletionSettings(
        dry_run=dry_run if isinstance(dry_run, bool) else default.dry_run,
        max_groups=min(max_groups or default.max_groups, MAX_GROUPS),
        max_gb=max_gb or default.max_gb,
    )


def deletion_settings_set(*, dry_run: bool, max_groups: int, max_gb: float) -> DeletionSettings:
    settings = DeletionSettings(dry_run=dry_run, max_groups=int(max_groups), max_gb=float(max_gb))
    config_set(DELETION_SETTINGS_KEY, asdict(settings))
    return settings


def smartplex_settings_save(
    *,
    capacity_source: str,
    total_gb: float,
    disk_path: str,
    dry_run: bool,
    max_groups: int,
    max_gb: float,
) -> DeletionSettings:
    """The settings page's one write: storage capacity (media's accessor) + deletion knobs."""
    path = disk_path if capacity_source == "disk" else ""
    storage_capacity_set(total_gb=total_gb, source=capacity_source, path=path)
    return deletion_settings_set(dry_run=dry_run, max_groups=max_groups, max_gb=max_gb)
