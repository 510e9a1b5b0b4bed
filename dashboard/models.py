"""What the dashboard reads, written after every sync so the page never aggregates raw rows.

A storage snapshot per clock hour at most (thinned to one per day after 30 days) and plays
per week over the last year: a year of plays is ~500k rows at real size, far too many to
group on every page view.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from media.formatting import human_size


class StorageSnapshot(models.Model):
    """Used space, capacity and what the enabled rules would reclaim, at one moment."""

    taken_at = models.DateTimeField(db_index=True)
    used_bytes = models.BigIntegerField()
    capacity_bytes = models.BigIntegerField(null=True, blank=True)
    reclaimable_show = models.BigIntegerField(default=0)
    reclaimable_season = models.BigIntegerField(default=0)
    reclaimable_episode = models.BigIntegerField(default=0)
    reclaimable_movie = models.BigIntegerField(default=0)
    top_candidates = models.JSONField(default=list, blank=True, help_text="Best groups by score")

    class Meta:
        ordering = ["taken_at"]
        get_latest_by = "taken_at"
        constraints = [
            models.CheckConstraint(condition=Q(used_bytes__gte=0), name="snapshot_used_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.taken_at:%Y-%m-%d %H:%M}: {human_size(self.used_bytes)} used"

    @property
    def used_percent(self) -> float | None:
        if not self.capacity_bytes:
            return None
        return 100 * self.used_bytes / self.capacity_bytes


class PlayWeek(models.Model):
    """Plays started in the week beginning `week_start` (a Monday, UTC), all servers."""

    week_start = models.DateField(unique=True)
    plays = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["week_start"]

    def __str__(self) -> str:
        return f"week of {self.week_start}: {self.plays} plays"
