"""SmartPlex's deletion settings, kept in system_config under `deletion_settings`.

Dry run is ON until an admin turns it off: a fresh install can never delete by accident.
The leave delay's default comes from `LEAVING_SOON_DAYS` (7 unless the environment says
otherwise); the daily execution schedule is off until an admin turns it on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from django.conf import settings as django_settings

from media.services import config_get, config_set, storage_capacity_set

DELETION_SETTINGS_KEY = "deletion_settings"
DEFAULT_COLLECTION_TITLE = "Leaving soon"


def _default_leave_days() -> int:
    return django_settings.LEAVING_SOON_DAYS


@dataclass(frozen=True)
class DeletionSettings:
    dry_run: bool = True
    max_groups: int = 25  # per execution; above this, execution asks for confirmation
    max_gb: float = 500.0  # per execution; above this, execution asks for confirmation
    # A group held by no Radarr/Sonarr: delete it through Plex ("plex") or leave it ("skip").
    when_not_in_arr: str = "plex"
    leaving_soon_days: int = field(default_factory=_default_leave_days)  # 0 = due at once
    execute_daily: bool = False  # the daily schedule of execute_deletions
    collection_title: str = DEFAULT_COLLECTION_TITLE  # the "Leaving soon" Plex collection
    collection_visible: bool = False  # promote it on Home / shared Home / Recommended


def deletion_settings_get() -> DeletionSettings:
    value = config_get(DELETION_SETTINGS_KEY) or {}
    default = DeletionSettings()
    return DeletionSettings(
        dry_run=bool(value.get("dry_run", default.dry_run)),
        max_groups=int(value.get("max_groups", default.max_groups)),
        max_gb=float(value.get("max_gb", default.max_gb)),
        leaving_soon_days=int(value.get("leaving_soon_days", default.leaving_soon_days)),
        execute_daily=bool(value.get("execute_daily", default.execute_daily)),
        collection_title=str(value.get("collection_title") or default.collection_title),
        collection_visible=bool(value.get("collection_visible", default.collection_visible)),
        when_not_in_arr=str(value.get("when_not_in_arr", default.when_not_in_arr)),
    )


WHEN_NOT_IN_ARR = ("plex", "skip")


def deletion_settings_set(**changes) -> DeletionSettings:
    """Change some settings, keep the others (names as in DeletionSettings)."""
    current = deletion_settings_get()
    if changes.get("when_not_in_arr", current.when_not_in_arr) not in WHEN_NOT_IN_ARR:
        raise ValueError(f"when_not_in_arr must be one of {WHEN_NOT_IN_ARR}")
    settings = replace(current, **changes)
    settings = replace(
        settings,
        max_groups=int(settings.max_groups),
        max_gb=float(settings.max_gb),
        leaving_soon_days=max(0, int(settings.leaving_soon_days)),
    )
    config_set(DELETION_SETTINGS_KEY, asdict(settings))
    if settings.execute_daily != current.execute_daily:
        from deletion.schedules import execution_schedule_ensure

        execution_schedule_ensure(settings=settings)
    return settings


def smartplex_settings_save(
    *, capacity_source: str, total_gb: float, disk_path: str, **deletion: object
) -> DeletionSettings:
    """The settings page's one write: storage capacity (media's accessor) + deletion knobs."""
    path = disk_path if capacity_source == "disk" else ""
    storage_capacity_set(total_gb=total_gb, source=capacity_source, path=path)
    return deletion_settings_set(**deletion)
