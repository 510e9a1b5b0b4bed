"""SmartPlex's deletion settings, kept in system_config under `deletion_settings`.

Dry run is ON until an admin turns it off: a fresh install can never delete by accident.
The leave delay's default comes from `LEAVING_SOON_DAYS` (7 unless the environment says
otherwise); the daily execution schedule is off until an admin turns it on.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields, replace

from django.conf import settings as django_settings

from media.inputs import int_in_range
from media.services import capacity_gb_clean, config_get, config_set, storage_capacity_set

logger = logging.getLogger(__name__)

DELETION_SETTINGS_KEY = "deletion_settings"
MAX_GROUPS = 1_000_000
MAX_LEAVE_DAYS = 36_500
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


def _bool(value) -> bool | None:
    return value if isinstance(value, bool) else None


def _title(value) -> str | None:
    return value.strip()[:200] or None if isinstance(value, str) else None


WHEN_NOT_IN_ARR = ("plex", "skip")

# How each stored value is read: the clean value, or None when it is unusable.
_READERS = {
    "dry_run": _bool,
    "max_groups": lambda v: int_in_range(v, minimum=1, maximum=MAX_GROUPS),
    "max_gb": capacity_gb_clean,
    "leaving_soon_days": lambda v: int_in_range(v, maximum=MAX_LEAVE_DAYS) if v != 0 else 0,
    "execute_daily": _bool,
    "collection_title": _title,
    "collection_visible": _bool,
    "when_not_in_arr": lambda v: v if v in WHEN_NOT_IN_ARR else None,
}


def deletion_settings_get() -> DeletionSettings:
    """The stored knobs. A value of the wrong type or out of range (a hand-edited row)
    falls back to its default, dry run on, with a warning: no page ever breaks on it."""
    value = config_get(DELETION_SETTINGS_KEY) or {}
    if not isinstance(value, dict):
        logger.warning("system_config %s is not an object: defaults used", DELETION_SETTINGS_KEY)
        value = {}
    default, clean = DeletionSettings(), {}
    for f in fields(DeletionSettings):
        if f.name not in value:
            continue
        read = _READERS[f.name](value[f.name])
        if read is None:
            logger.warning(
                "system_config %s.%s is unusable: default used", DELETION_SETTINGS_KEY, f.name
            )
            continue
        clean[f.name] = read
    return replace(default, **clean)


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
