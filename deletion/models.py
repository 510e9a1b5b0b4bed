"""Deletion rules, protections, approved deletions, execution runs and the audit log.

A *group* is addressed by (server, level, plex_id): a movie, a show (grandparent key of its
episodes), a season (parent key) or an episode. Exclusions and requests also store the show
and season keys above the group, so "is anything inside or above this group protected /
already approved" is one indexed EXISTS, whatever the level.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from media.formatting import human_size
from media.models import LibrarySection, LogModel, PlexServer, RunModel, TimeStampedModel
from syncing.models import TautulliUser


# Labels from the member names (Movie, Show, …), as Django derives them.
class Level(models.TextChoices):
    MOVIE = "movie"
    SHOW = "show"
    SEASON = "season"
    EPISODE = "episode"


class RequesterWatched(models.TextChoices):
    OFF = "off"
    REQUIRED = "required"


# Bounds a date can hold (now − 100 years is still a datetime) and a play count can reach.
MAX_RULE_DAYS = 36_500
MAX_RULE_PLAYS = 1_000_000


class DeletionRule(TimeStampedModel):
    """Which groups are candidates: old enough, idle long enough, rarely played."""

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    include_movies = models.BooleanField(default=True, help_text="Movies are candidates")
    include_tv = models.BooleanField(default=True, help_text="Shows, seasons, episodes")
    sections = models.ManyToManyField(
        LibrarySection, blank=True, related_name="+", help_text="Empty means every library"
    )
    grace_days = models.PositiveIntegerField(
        default=30, validators=[MaxValueValidator(MAX_RULE_DAYS)], help_text="Days since newest add"
    )
    inactivity_days = models.PositiveIntegerField(
        default=15,
        validators=[MaxValueValidator(MAX_RULE_DAYS)],
        help_text="Days since anyone last watched",
    )
    max_plays = models.PositiveIntegerField(
        default=2,
        validators=[MaxValueValidator(MAX_RULE_PLAYS)],
        help_text="Total plays below this",
    )
    min_size_gb = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Optional"
    )
    ignore_users = models.ManyToManyField(
        TautulliUser,
        blank=True,
        related_name="+",
        help_text="Their plays do not count for this rule (plays, last watched, watch time)",
    )
    requester_watched = models.CharField(
        max_length=10,
        choices=RequesterWatched.choices,
        default=RequesterWatched.OFF,
        help_text="Required: a requested group is a candidate only once its requester watched it",
    )
    requester_watched_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Share of a show's or season's episodes the requester watched",
    )
    request_expires_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_RULE_DAYS)],
        help_text="Optional: a request older than this many days no longer protects",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(include_movies=True) | Q(include_tv=True),
                name="rule_has_a_media_type",
            ),
            models.CheckConstraint(condition=Q(max_plays__gte=1), name="rule_max_plays_positive"),
            models.CheckConstraint(
                condition=Q(grace_days__lte=MAX_RULE_DAYS, inactivity_days__lte=MAX_RULE_DAYS)
                & Q(max_plays__lte=MAX_RULE_PLAYS),
                name="rule_bounds_fit_dates",
            ),
            models.CheckConstraint(
                condition=Q(min_size_gb__isnull=True) | Q(min_size_gb__gte=0),
                name="rule_min_size_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(requester_watched_percent__gte=1, requester_watched_percent__lte=100),
                name="rule_requester_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def summary(self) -> str:
        size = f", ≥ {self.min_size_gb} GB" if self.min_size_gb else ""
        text = (
            f"added {self.grace_days}+ days ago, not watched for {self.inactivity_days}+ days, "
            f"fewer than {self.max_plays} plays{size}"
        )
        if self.requester_watched == RequesterWatched.REQUIRED:
            text += f", requester watched {self.requester_watched_percent} %"
            if self.request_expires_days:
                text += f" (requests older than {self.request_expires_days} days do not count)"
        return text

    @property
    def needs_requester(self) -> bool:
        return self.requester_watched == RequesterWatched.REQUIRED


class GroupRef(models.Model):
    """The address of a group plus the keys above it (show, season) for hierarchy checks."""

    server = models.ForeignKey(PlexServer, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=10, choices=Level.choices)
    plex_id = models.BigIntegerField(help_text="ratingKey of the movie/show/season/episode")
    show_plex_id = models.BigIntegerField(null=True, blank=True, editable=False)
    season_plex_id = models.BigIntegerField(null=True, blank=True, editable=False)
    title = models.CharField(max_length=600, blank=True)

    class Meta:
        abstract = True


class Exclusion(GroupRef, TimeStampedModel):
    """A protected group: never a candidate (nor anything containing it) while active."""

    until = models.DateField(null=True, blank=True, help_text="Empty = forever")
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [("protect_media", "Can protect media from deletion")]
        constraints = [
            models.UniqueConstraint(fields=["server", "plex_id"], name="one_exclusion_per_item"),
        ]
        indexes = [
            models.Index(fields=["server", "show_plex_id"], name="excl_show_idx"),
            models.Index(fields=["server", "season_plex_id"], name="excl_season_idx"),
        ]

    def __str__(self) -> str:
        return f"Protected {self.get_level_display().lower()}: {self.title or self.plex_id}"


class DeletionRun(RunModel):
    """One execution of the approved queue (every run is a row; progress for the page)."""

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    dry_run = models.BooleanField(default=True)
    heartbeat_at = models.DateTimeField(
        default=timezone.now, help_text="Refreshed after every group; stale = the worker died"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    total = models.PositiveIntegerField(default=0)  # groups due when the run started
    processed = models.PositiveIntegerField(default=0)  # groups done, whatever the outcome
    deleted = models.PositiveIntegerField(default=0)
    would_delete = models.PositiveIntegerField(default=0)  # dry run: what it would delete
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    bytes_freed = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Execution #{self.pk} ({self.status})"

    @property
    def progress_percent(self) -> int:
        return round(100 * self.processed / self.total) if self.total else 100


class DeletionRequest(GroupRef, TimeStampedModel):
    """An approved group waiting for (or done with) execution."""

    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"
        RUNNING = "running", "Running"
        NEEDS_CHECK = "needs_check", "Needs check"  # claimed by a run that died
        DELETED = "deleted", "Deleted"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Taken out"

    OPEN = (Status.APPROVED, Status.RUNNING, Status.NEEDS_CHECK)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.APPROVED)
    item_count = models.PositiveIntegerField(default=0, help_text="At approval")
    size_bytes = models.BigIntegerField(default=0, help_text="At approval")
    rule = models.ForeignKey(
        DeletionRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    rule_name = models.CharField(max_length=100, blank=True, help_text="Kept if the rule goes")
    requested_by = models.CharField(max_length=300, blank=True, help_text="Seerr requester(s)")
    watched_by = models.CharField(max_length=600, blank=True, help_text="At approval")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField()
    # approved_at + leaving_soon_days; until then the group is "leaving soon", then due.
    # The default (due at once) is for rows made outside the approval service.
    leave_at = models.DateTimeField(default=timezone.now)
    executed_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(
        DeletionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    dry_run = models.BooleanField(default=False, help_text="Last execution was a dry run")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-approved_at"]
        permissions = [
            ("view_candidates", "Can view deletion candidates"),
            ("approve_deletion", "Can approve deletions"),
            ("execute_deletion", "Can execute approved deletions"),
            ("manage_settings", "Can change SmartPlex deletion and storage settings"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "plex_id"],
                condition=Q(status__in=["approved", "running", "needs_check"]),
                name="one_open_request_per_group",
            ),
            models.CheckConstraint(
                condition=Q(size_bytes__gte=0), name="request_size_non_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "approved_at"], name="request_status_idx"),
            models.Index(fields=["status", "leave_at"], name="request_leave_idx"),
            models.Index(fields=["server", "show_plex_id"], name="request_show_idx"),
            models.Index(fields=["server", "season_plex_id"], name="request_season_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.title or self.plex_id} ({self.status})"

    @property
    def is_due(self) -> bool:
        return self.leave_at <= timezone.now()

    @property
    def human_size(self) -> str:
        return human_size(self.size_bytes)


class AuditLog(LogModel):
    """Append-only record of every approval, protection and execution outcome."""

    class Action(models.TextChoices):
        APPROVE = "approve", "Approved"  # into the queue (one by one or a whole plan)
        PROTECT = "protect", "Protected"  # an exclusion, until a date or for good
        UNPROTECT = "unprotect", "Unprotected"
        EXECUTE = "execute", "Deleted"  # through Radarr/Sonarr or Plex
        WOULD_DELETE = "would_delete", "Would delete (dry run)"
        SKIP = "skip", "Skipped"  # left by the execution, with the reason
        FAIL = "fail", "Failed"  # the removal call failed, with the reason
        CANCEL = "cancel", "Taken out of the queue"  # a cancel, a new play or a protection

    action = models.CharField(max_length=20, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, help_text="Kept if the user goes")
    server = models.ForeignKey(
        PlexServer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.CharField(max_length=10, choices=Level.choices, blank=True)
    plex_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(max_length=600, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    request = models.ForeignKey(
        DeletionRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit"
    )
    run = models.ForeignKey(
        DeletionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit"
    )
    message = models.TextField(blank=True)

    class Meta(LogModel.Meta):
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.title or self.plex_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The audit log is append-only.")
        super().save(*args, **kwargs)

    @property
    def human_size(self) -> str:
        return human_size(self.size_bytes)


class RemovalCall(models.Model):
    """One call made to remove a group (Radarr, Sonarr or Plex), in order, with its outcome.

    Written as each call returns, so a run that stops half-way (a 500 in the middle of a
    season) still tells exactly which files are gone.
    """

    class Outcome(models.TextChoices):
        OK = "ok", "Done"
        ALREADY = "already", "Already done"
        FAILED = "failed", "Failed"

    request = models.ForeignKey(DeletionRequest, on_delete=models.CASCADE, related_name="calls")
    run = models.ForeignKey(
        DeletionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    system = models.CharField(max_length=10, help_text="radarr, sonarr or plex")
    instance = models.CharField(max_length=100, blank=True, help_text="Connection name")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500, help_text="Path and query, never a key")
    status_code = models.IntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.get_outcome_display()}"


class LeavingCollection(models.Model):
    """The "Leaving soon" collection SmartPlex keeps in one Plex library section, found again
    by its stored ratingKey (never by title, so a user's own collection is never touched)."""

    section = models.OneToOneField(LibrarySection, on_delete=models.CASCADE, related_name="+")
    plex_key = models.BigIntegerField(null=True, blank=True, help_text="Collection ratingKey")
    items = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the last update failed")

    class Meta:
        verbose_name = "“Leaving soon” collection"

    def __str__(self) -> str:
        return f"Leaving soon in {self.section}"
