"""Read side of the dashboard: everything on "/" in a handful of small queries over the
pre-aggregates (snapshots, play weeks) and one GROUP BY over the sync runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from dashboard.charts import Chart, plays_chart, storage_chart
from dashboard.models import PlayWeek, StorageSnapshot
from dashboard.projection import FillProjection, fill_projection
from dashboard.threshold import ThresholdState, threshold_state_get
from deletion.models import Level
from deletion.storage import StorageSummary, storage_summary_get
from media.formatting import human_size
from syncing.models import SyncRun

CHART_DAYS = 90
PLAY_WEEKS_SHOWN = 52


@dataclass(frozen=True)
class SourceHealth:
    kind: str
    target: str
    state: str  # "ok" | "failed" | "running" | "never"
    last_success_at: datetime | None = None
    last_finished_at: datetime | None = None
    error: str = ""


@dataclass(frozen=True)
class Dashboard:
    storage: StorageSummary
    projection: FillProjection
    storage_chart: Chart
    plays_chart: Chart
    plays_total: int
    latest: StorageSnapshot | None
    health: list[SourceHealth]
    threshold: ThresholdState

    @property
    def reclaimable(self) -> list[dict]:
        """Per level, from the latest snapshot: levels are alternative views of the same
        space (a show holds its seasons), so they are never summed."""
        s = self.latest
        if s is None:
            return []
        sizes = [
            (Level.SHOW, "Whole shows", s.reclaimable_show),
            (Level.SEASON, "Seasons", s.reclaimable_season),
            (Level.EPISODE, "Episodes", s.reclaimable_episode),
            (Level.MOVIE, "Movies", s.reclaimable_movie),
        ]
        top = max(size for *_, size in sizes) or 1
        return [
            {"level": lv, "label": label, "human": human_size(size), "percent": 100 * size // top}
            for lv, label, size in sizes
        ]


def _target_fields() -> list:
    return [f for f in SyncRun._meta.get_fields() if f.many_to_one and f.name.endswith("_server")]


def _target_names(fields: list, groups: list[dict]) -> dict[tuple[str, int], str]:
    names = {}
    for f in fields:
        ids = {g[f.attname] for g in groups if g[f.attname] is not None}
        model = f.related_model
        for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name"):
            names[(f.name, pk)] = name
    return names


def _state(group: dict) -> str:
    if group["active"]:
        return "running"
    if group["last_finished"] is None:
        return "never"
    return "ok" if group["last_finished"] == group["last_success"] else "failed"


def sync_health_get() -> list[SourceHealth]:
    """The last outcome of every kind of sync on every target that ever ran."""
    fields = _target_fields()
    groups = list(
        SyncRun.objects.order_by()
        .values("kind", *[f.attname for f in fields])
        .annotate(
            last_success=Max("finished_at", filter=Q(status=SyncRun.Status.SUCCESS)),
            last_finished=Max("finished_at", filter=~Q(status__in=SyncRun.ACTIVE_STATUSES)),
            active=Count("pk", filter=Q(status__in=SyncRun.ACTIVE_STATUSES)),
        )
    )
    names = _target_names(fields, groups)
    failed_at = [g["last_finished"] for g in groups if g["last_finished"] != g["last_success"]]
    errors = dict(
        SyncRun.objects.filter(status=SyncRun.Status.FAILED, finished_at__in=failed_at)
        .values_list("finished_at", "error")
        .order_by("finished_at")
    )
    labels = dict(SyncRun.Kind.choices)
    rows = []
    for g in groups:
        target = next((names.get((f.name, g[f.attname]), "?") for f in fields if g[f.attname]), "—")
        state = _state(g)
        error = errors.get(g["last_finished"], "") if state == "failed" else ""
        rows.append(
            SourceHealth(
                labels.get(g["kind"], g["kind"]),
                target,
                state,
                g["last_success"],
                g["last_finished"],
                error.splitlines()[0] if error else "",
            )
        )
    return sorted(rows, key=lambda r: (r.kind, r.target))


def _daily(points: list[tuple[datetime, int]]) -> list[tuple[datetime, int]]:
    """The last point of each day, for the 90-day chart (the projection uses them all)."""
    last: dict = {}
    for at, used in points:
        last[at.astimezone(UTC).date()] = (at, used)
    return list(last.values())


def dashboard_get(*, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    storage = storage_summary_get()
    points = list(
        StorageSnapshot.objects.filter(taken_at__gte=now - timedelta(days=CHART_DAYS))
        .order_by("taken_at")
        .values_list("taken_at", "used_bytes")
    )
    projection = fill_projection(points=points, capacity_bytes=storage.capacity_bytes, now=now)
    weeks = list(PlayWeek.objects.order_by("-week_start").values_list("week_start", "plays"))
    weeks = weeks[:PLAY_WEEKS_SHOWN][::-1]
    chart = storage_chart(
        points=_daily(points),
        capacity_bytes=storage.capacity_bytes,
        trend=projection.line,
        now=now,
        days=CHART_DAYS,
    )
    return Dashboard(
        storage=storage,
        projection=projection,
        storage_chart=chart,
        plays_chart=plays_chart(weeks=weeks),
        plays_total=sum(p for _, p in weeks),
        latest=StorageSnapshot.objects.order_by("-taken_at").first(),
        health=sync_health_get(),
        threshold=threshold_state_get(),
    )
