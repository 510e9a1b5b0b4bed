"""SmartPlex's deletion settings, kept in system_config under `deletion_settings`.

Dry run is ON until an admin turns it off: a fresh install can never delete by accident.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from media.services import config_get, config_set, storage_capacity_set

DELETION_SETTINGS_KEY = "deletion_settings"


@dataclass(frozen=True)
class DeletionSettings:
    dry_run: bool = True
    max_groups: int = 25  # per execution; above this, execution asks for confirmation
    max_gb: float = 500.0  # per execution; above this, execution asks for confirmation
    # A group held by no Radarr/Sonarr: delete it through Plex ("plex") or leave it ("skip").
    when_not_in_arr: str = "plex"


def deletion_settings_get() -> DeletionSettings:
    value = config_get(DELETION_SETTINGS_KEY) or {}
    default = DeletionSettings()
    return DeletionSettings(
        dry_run=bool(value.get("dry_run", default.dry_run)),
        max_groups=int(value.get("max_groups", default.max_groups)),
        max_gb=float(value.get("max_gb", default.max_gb)),
        when_not_in_arr=value.get("when_not_in_arr", default.when_not_in_arr),
    )


WHEN_NOT_IN_ARR = ("plex", "skip")


def deletion_settings_set(
    *, dry_run: bool, max_groups: int, max_gb: float, when_not_in_arr: str = "plex"
) -> DeletionSettings:
    if when_not_in_arr not in WHEN_NOT_IN_ARR:
        raise ValueError(f"when_not_in_arr must be one of {WHEN_NOT_IN_ARR}")
    settings = DeletionSettings(
        dry_run=dry_run, max_groups=int(max_groups), max_gb=float(max_gb),
        when_not_in_arr=when_not_in_arr,
    )  # fmt: skip
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
    when_not_in_arr: str = "plex",
) -> DeletionSettings:
    """The settings page's one write: storage capacity (media's accessor) + deletion knobs."""
    path = disk_path if capacity_source == "disk" else ""
    storage_capacity_set(total_gb=total_gb, source=capacity_source, path=path)
    return deletion_settings_set(
        dry_run=dry_run, max_groups=max_groups, max_gb=max_gb, when_not_in_arr=when_not_in_arr
    )
