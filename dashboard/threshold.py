"""The storage threshold: "when used ≥ X %, plan down to Y %" (off by default).

Checked after every sync (dashboard.signals). Crossing the threshold computes the plan and
announces it once; later syncs while still over it refresh the plan shown on the dashboard
without announcing again; dropping below re-arms it. It never approves anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dashboard.models import StorageSnapshot
from deletion.planner import Plan, PlanTarget, plan_get
from media.formatting import human_size
from media.services import config_get, config_set
from notifications.models import Notification
from notifications.services import notify

SETTINGS_KEY = "storage_threshold"
STATE_KEY = "storage_threshold_state"
TOP_GROUPS = 5


@dataclass(frozen=True)
class ThresholdSettings:
    enabled: bool = False
    over_percent: float = 90.0
    target_percent: float = 80.0


@dataclass(frozen=True)
class ThresholdState:
    """What the last check found (kept in system_config for the dashboard)."""

    over: bool = False
    checked_at: str = ""
    crossed_at: str = ""
    used_percent: float | None = None
    plan: dict = field(default_factory=dict)  # {"groups", "freed", "shortfall", "top": [...]}

    @property
    def crossed(self) -> datetime | None:
        return parse_datetime(self.crossed_at) if self.crossed_at else None

    @property
    def checked(self) -> datetime | None:
        return parse_datetime(self.checked_at) if self.checked_at else None


def threshold_settings_get() -> ThresholdSettings:
    value = config_get(SETTINGS_KEY) or {}
    default = ThresholdSettings()
    return ThresholdSettings(
        enabled=bool(value.get("enabled", default.enabled)),
        over_percent=float(value.get("over_percent", default.over_percent)),
        target_percent=float(value.get("target_percent", default.target_percent)),
    )


def threshold_settings_set(
    *, enabled: bool, over_percent: float, target_percent: float
) -> ThresholdSettings:
    """Store the threshold; the target must lie below the trigger, both within 0–100."""
    over, target = float(over_percent), float(target_percent)
    if not (0 < over <= 100 and 0 <= target < over):
        raise ValidationError("The plan-down-to percentage must be below the threshold (0–100).")
    settings = ThresholdSettings(enabled=bool(enabled), over_percent=over, target_percent=target)
    config_set(SETTINGS_KEY, asdict(settings))
    return settings


def threshold_state_get() -> ThresholdState:
    value = config_get(STATE_KEY) or {}
    return ThresholdState(
        **{k: v for k, v in value.items() if k in ThresholdState.__dataclass_fields__}
    )


def _plan_summary(plan: Plan) -> dict:
    return {
        "target_percent": plan.target.used_percent,
        "groups": len(plan.entries),
        "freed": plan.freed_bytes,
        "shortfall": plan.shortfall_bytes,
        "top": [
            {"title": e.candidate.title, "level": e.ref.level, "size": e.size}
            for e in plan.shown[:TOP_GROUPS]
        ],
    }


def storage_threshold_announce(*, state: ThresholdState) -> None:
    """One message per crossing (keyed by its time): the plan's total and its top groups."""
    plan = state.plan
    lines = [f"- **{t['title']}** ({t['level']}, {human_size(t['size'])})" for t in plan["top"]]
    short = f", {human_size(plan['shortfall'])} short" if plan["shortfall"] else ""
    body = [
        f"A plan down to {plan['target_percent']:g} %: {plan['groups']} "
        f"group{'s' * (plan['groups'] != 1)} {'free' if plan['groups'] != 1 else 'frees'} "
        f"{human_size(plan['freed'])}{short}. Nothing is approved until you do it on the "
        f"planner page (/deletion/plan/?target_used_percent={plan['target_percent']:g}).",
        *(["Biggest wins:", *lines] if lines else []),
    ]
    notify(
        event=Notification.Event.STORAGE,
        title=f"Storage at {state.used_percent:.0f} %: over the threshold",
        body="\n".join(body),
        key=f"storage:{state.crossed_at}",
    )


def threshold_check(*, snapshot: StorageSnapshot) -> ThresholdState:
    """Compare the snapshot with the threshold; plan and announce once per crossing."""
    settings, previous = threshold_settings_get(), threshold_state_get()
    used = snapshot.used_percent
    now = timezone.now().isoformat()
    if not settings.enabled or used is None or used < settings.over_percent:
        state = ThresholdState(checked_at=now, used_percent=used)
    else:
        plan = plan_get(target=PlanTarget(used_percent=settings.target_percent))
        crossed = previous.crossed_at if previous.over else now
        state = ThresholdState(True, now, crossed, used, _plan_summary(plan))
    config_set(STATE_KEY, asdict(state))
    if state.over and not previous.over:
        storage_threshold_announce(state=state)
    return state


def threshold_configured() -> bool:
    """Has anyone saved the threshold yet (the demo must not overwrite a choice)?"""
    return config_get(SETTINGS_KEY) is not None
