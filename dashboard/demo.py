"""The demo's disk (scripts/run.sh without PLEX_URL, after the first sync): nearly full and
over its threshold, with months of storage history, so the dashboard and the planner have
something to say on a first start. Never changes what an admin has already set."""

from __future__ import annotations

from dashboard.services import dashboard_refresh, snapshots_backfill
from dashboard.threshold import (
    ThresholdState,
    threshold_check,
    threshold_configured,
    threshold_settings_set,
)
from deletion.models import DeletionRule
from deletion.storage import storage_summary_get
from media.formatting import GB
from media.services import storage_capacity_get, storage_capacity_set

DEMO_USED_PERCENT = 88.0
DEMO_THRESHOLD = (85.0, 75.0)  # when used ≥ 85 %, plan down to 75 %
DEMO_HISTORY_DAYS = 180
DEMO_RULE = "Abandoned for six months (demo)"


def demo_disk_setup() -> ThresholdState:
    """Capacity so that the library fills DEMO_USED_PERCENT of it, the threshold on, a rule
    for abandoned shows, six months of estimated snapshots, then a snapshot and a threshold
    check as after a sync."""
    if storage_capacity_get().total_gb is None:
        used = storage_summary_get().used_bytes
        total_gb = max(1.0, round(used / GB * 100 / DEMO_USED_PERCENT, 1))
        storage_capacity_set(total_gb=total_gb, source="manual")
    if not threshold_configured():
        over, target = DEMO_THRESHOLD
        threshold_settings_set(enabled=True, over_percent=over, target_percent=target)
    if not DeletionRule.objects.filter(name=DEMO_RULE).exists():
        # The default rule wants fewer than 2 plays, so a show watched for a season and then
        # dropped never matches it; this one shows the planner those abandoned shows.
        DeletionRule.objects.create(
            name=DEMO_RULE, grace_days=90, inactivity_days=180, max_plays=100_000
        )
    snapshots_backfill(days=DEMO_HISTORY_DAYS)
    return threshold_check(snapshot=dashboard_refresh())
