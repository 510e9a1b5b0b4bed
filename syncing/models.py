"""Tautulli and Radarr/Sonarr connections, what they hold, watch history (plays) and the
record of every sync run."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from media.formatting import title_with_year
from media.models import Connection, MediaItem, PlexServer, RunModel, TimeStampedModel


class TautulliServer(Connection):
    """A Tautulli instance; its history is matched to the items of `plex_server`."""

    base_url = models.URLField(max_length=300)
    api_key = models.CharField(max_length=300)
    plex_server = models.ForeignKey(
        PlexServer, on_delete=models.CASCADE, related_name="tautulli_servers"
    )

    class Meta(Connection.Meta):
        verbose_name = "Tautulli server"


class ArrServer(Connection):
    """A Radarr (movies) or Sonarr (shows) instance; deletions of what it holds go through it.

    `path_mappings` is a list of `[arr_prefix, plex_prefix]` pairs: Radarr in one container
    sees `/movies/X`, Plex in another `/data/movies/X`. Several instances of a kind are
    normal (an HD and a 4K Radarr).
    """

    class Kind(models.TextChoices):  # labels from the names, as Django derives them
        RADARR = "radarr"
        SONARR = "sonarr"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Not a URLField: Docker service names ("http://radarr:7878") have no dot in the host.
    base_url = models.CharField(max_length=300, help_text="e.g. http://radarr:7878")
    api_key = models.CharField(max_length=300)
    plex_server = models.ForeignKey(
        PlexServer, on_delete=models.CASCADE, related_name="arr_servers"
    )
    path_mappings = models.JSONField(
        default=list,
        blank=True,
        help_text='[["/movies", "/data/movies"], …]: *arr prefix, Plex prefix',
    )
    version = models.CharField(max_length=50, blank=True, editable=False)

    class Meta(Connection.Meta):
        ordering = ["kind", "name"]
        verbose_name = "Radarr/Sonarr server"

    def plex_path(self, arr_path: str | None) -> str | None:
        """The path Plex sees for a file the *arr names (longest matching prefix wins)."""
        return _map_path(arr_path, [(a, p) for a, p in self.path_mappings or []])

    def arr_path(self, plex_path: str | None) -> str | None:
        return _map_path(plex_path, [(p, a) for a, p in self.path_mappings or []])


def _map_path(path: str | None, pairs: list[tuple[str, str]]) -> str | None:
    if not path:
        return path
    for source, target in sorted(pairs, key=lambda pair: -len(pair[0])):
        src = source.rstrip("/")
        if path == src or path.startswith(src + "/"):
            return target.rstrip("/") + path[len(src) :]
    return path


class ArrItem(models.Model):
    """A movie (Radarr) or series (Sonarr) as last read by `sync_arr`, linked to the Plex
    movie/show it is (`media_item`, null when none) and how that link was found."""

    class Kind(models.TextChoices):
        MOVIE = "movie"
        SERIES = "series"

    class MatchedBy(models.TextChoices):
        PATH = "path", "File path"
        TMDB = "tmdb", "TMDB id"
        TVDB = "tvdb", "TVDB id"
        IMDB = "imdb", "IMDB id"
        NUMBER = "number", "Season and episode number"
        NONE = "", "Not in Plex"

    # No index of its own on `server` (nor below on episodes' `server` and `series`): the
    # unique constraint (and arr_ep_season_idx) lead with it; one index less per row written.
    server = models.ForeignKey(
        ArrServer, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    arr_id = models.IntegerField()
    title = models.CharField(max_length=500)
    year = models.IntegerField(null=True, blank=True)
    tmdb_id = models.CharField(max_length=32, null=True, blank=True)
    tvdb_id = models.CharField(max_length=32, null=True, blank=True)
    imdb_id = models.CharField(max_length=32, null=True, blank=True)
    path = models.TextField(blank=True, help_text="Folder, as the *arr sees it")
    monitored = models.BooleanField(default=True)
    tags = models.JSONField(default=list, blank=True)
    quality_profile_id = models.IntegerField(null=True, blank=True)
    seasons = models.JSONField(default=list, blank=True, help_text="[[number, monitored], …]")
    file_id = models.IntegerField(null=True, blank=True, help_text="Movie file id")
    file_path = models.TextField(null=True, blank=True, help_text="Movie file, as Plex sees it")
    size_on_disk = models.BigIntegerField(default=0)
    media_item = models.ForeignKey(
        MediaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="arr_items"
    )
    matched_by = models.CharField(max_length=10, choices=MatchedBy.choices, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "arr_items"
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["server", "kind", "arr_id"], name="uniq_arr_item"),
        ]

    def __str__(self) -> str:
        return title_with_year(self.title, self.year)


class ArrEpisode(models.Model):
    """A Sonarr episode and its file (ids, monitored, size), linked to the Plex episode."""

    server = models.ForeignKey(
        ArrServer, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    series = models.ForeignKey(
        ArrItem, on_delete=models.CASCADE, related_name="episodes", db_index=False
    )
    arr_id = models.IntegerField()
    season_number = models.IntegerField()
    episode_number = models.IntegerField()
    tvdb_id = models.CharField(max_length=32, null=True, blank=True)
    monitored = models.BooleanField(default=True)
    file_id = models.IntegerField(null=True, blank=True)
    file_path = models.TextField(null=True, blank=True, help_text="As Plex sees it")
    size = models.BigIntegerField(default=0)
    media_item = models.ForeignKey(
        MediaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="arr_episodes"
    )
    matched_by = models.CharField(max_length=10, choices=ArrItem.MatchedBy.choices, blank=True)

    class Meta:
        db_table = "arr_episodes"
        constraints = [
            models.UniqueConstraint(fields=["server", "arr_id"], name="uniq_arr_episode"),
        ]
        indexes = [models.Index(fields=["series", "season_number"], name="arr_ep_season_idx")]

    def __str__(self) -> str:
        return f"S{self.season_number:02d}E{self.episode_number:02d} (#{self.arr_id})"


# Foreign keys of the tables the Tautulli sync bulk-writes (plays, per-user rollups): a full
# import writes ~1.4M such rows, and PostgreSQL checked each one's key at commit (~3 µs a
# row: 3 s for the rollups alone). The sync takes the same guarantee once per transaction
# instead (syncing.services.tautulli_plays.referenced_rows_held: the rows exist and stay
# until commit); Django still cascades every delete. Their lookups use composite indexes.
NO_FK_CHECK = {"db_constraint": False, "db_index": False}


class Play(models.Model):
    """One Tautulli history row (`get_history` with grouping=0), keyed on its `row_id`.

    Sessions sharing a `reference_id` are one resumed play, as Tautulli counts them.
    """

    # No database constraint (the sync holds the server's row once per page instead of a
    # check per play: tautulli_plays.referenced_rows_held) and no index of its own
    # (uniq_play_row starts with it); Django still cascades the deletes.
    tautulli = models.ForeignKey(
        TautulliServer, on_delete=models.CASCADE, related_name="plays", **NO_FK_CHECK
    )
    row_id = models.BigIntegerField()
    reference_id = models.BigIntegerField(null=True, blank=True)
    plex_id = models.BigIntegerField(null=True, blank=True)
    parent_plex_id = models.BigIntegerField(null=True, blank=True)
    grandparent_plex_id = models.BigIntegerField(null=True, blank=True)
    media_type = models.CharField(max_length=20, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    user = models.CharField(max_length=200, blank=True)
    started = models.DateTimeField(null=True, blank=True)
    stopped = models.DateTimeField(null=True, blank=True)
    play_duration = models.IntegerField(default=0, help_text="Seconds, pauses excluded")
    paused_counter = models.IntegerField(default=0)
    percent_complete = models.IntegerField(null=True, blank=True)
    watched_status = models.FloatField(null=True, blank=True)
    guid = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "tautulli_plays"
        constraints = [
            models.UniqueConstraint(fields=["tautulli", "row_id"], name="uniq_play_row"),
        ]
        # By item then user: an item's plays (item statistics) and one user's plays of an
        # item (the per-user rollup refreshed after an incremental sync) are both ranges.
        indexes = [
            models.Index(fields=["tautulli", "plex_id", "user_id"], name="play_item_user_idx"),
            models.Index(fields=["tautulli", "guid"], name="play_guid_idx"),
            models.Index(fields=["tautulli", "started"], name="play_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.title or self.plex_id}"


class SyncRun(RunModel):
    """Every sync is a row: what ran, against which server, how it went, with counts.

    A partial unique constraint allows one queued-or-running sync of a kind per server: the
    lock shared by the scheduler, the admin buttons and the commands (SQLite and PostgreSQL).
    "Sync now" creates the row as queued (so the page can link to it at once) and the
    worker moves it to running.
    """

    class Kind(models.TextChoices):
        PLEX = "plex", "Plex library"  # sync_plex: every section; marks what is gone
        TAUTULLI = "tautulli", "Tautulli history"  # sync_tautulli: new plays, statistics
        TAUTULLI_ITEM = "tautulli_item", "Tautulli item"  # one item's plays (the webhook)
        ARR = "arr", "Radarr/Sonarr"  # sync_arr: what each instance holds, its disks
        PLEX_CHANGES = "plex_changes", "Plex changes"  # sync_plex --changed
        PLEX_EVENTS = "plex_events", "Plex events"  # a batch of Plex's notifications
        SEERR = "seerr", "Seerr requests"  # sync_seerr

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCESS = "success"
        FAILED = "failed"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    plex_server = models.ForeignKey(
        PlexServer, on_delete=models.CASCADE, null=True, blank=True, related_name="sync_runs"
    )
    tautulli_server = models.ForeignKey(
        TautulliServer, on_delete=models.CASCADE, null=True, blank=True, related_name="sync_runs"
    )
    arr_server = models.ForeignKey(
        ArrServer, on_delete=models.CASCADE, null=True, blank=True, related_name="sync_runs"
    )
    seerr_server = models.ForeignKey(
        "SeerrServer", on_delete=models.CASCADE, null=True, blank=True, related_name="sync_runs"
    )
    # Lock key: "<lock group>:<target pk>[:<detail>]" (syncing.kinds), so one constraint covers
    # every kind of run and target.
    lock_key = models.CharField(max_length=100, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=50, blank=True, help_text="command, schedule, admin, …")
    inputs = models.JSONField(default=dict, blank=True, help_text="What this run was asked to do")
    cursor = models.JSONField(
        default=dict, blank=True, help_text="Where the next run of this kind and target starts"
    )
    details = models.JSONField(default=dict, blank=True, help_text="Timings, unmatched items, …")
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    progress_label = models.CharField(max_length=200, blank=True)
    requests_made = models.PositiveIntegerField(default=0)
    pages_fetched = models.PositiveIntegerField(default=0)
    items_seen = models.PositiveIntegerField(default=0)
    items_created = models.PositiveIntegerField(default=0)
    items_updated = models.PositiveIntegerField(default=0)
    items_gone = models.PositiveIntegerField(default=0)
    rows_fetched = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)

    class Meta(RunModel.Meta):
        permissions = [("run_sync", "Can start a sync now")]
        constraints = [
            models.UniqueConstraint(
                fields=["lock_key"],
                condition=Q(status__in=["queued", "running"]),
                name="one_running_sync_per_server",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "status", "-finished_at"], name="syncrun_kind_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    # The FK that holds each kind of target; a new kind of server adds its line.
    TARGET_FIELDS = {
        "PlexServer": "plex_server",
        "TautulliServer": "tautulli_server",
        "ArrServer": "arr_server",
        "SeerrServer": "seerr_server",
    }

    @property
    def target(self):
        """The server record this run works on, whatever its kind."""
        for field in self.TARGET_FIELDS.values():
            if getattr(self, f"{field}_id") is not None:
                return getattr(self, field)
        return None


class TautulliUser(TimeStampedModel):
    """A Tautulli user (`get_users`), refreshed by every Tautulli sync.

    `keep_history` off means Tautulli records nothing for this account: whatever a rule asks
    about this user (did the requester watch it?) is unknown, never "unwatched". A user who
    left Tautulli's list is kept, marked inactive, so rules that name it keep working.
    """

    tautulli = models.ForeignKey(TautulliServer, on_delete=models.CASCADE, related_name="users")
    user_id = models.BigIntegerField(help_text="Plex account id, as in every play")
    username = models.CharField(max_length=200, blank=True, help_text="Plex username")
    friendly_name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=300, blank=True)
    keep_history = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["friendly_name", "username"]
        verbose_name = "Tautulli user"
        constraints = [
            models.UniqueConstraint(fields=["tautulli", "user_id"], name="uniq_tautulli_user"),
        ]

    def __str__(self) -> str:
        name = self.friendly_name or self.username or f"user {self.user_id}"
        return name if self.keep_history else f"{name} (history off)"


class UserItemStats(models.Model):
    """Per-user rollup of the plays of one item (movie or episode), rebuilt by the Tautulli
    sync from tautulli_plays, so rules about people read one small row per user and item
    instead of every play."""

    # No database constraint or index of their own on these two (see NO_FK_CHECK; the
    # unique key and the per-server index below serve the lookups).
    tautulli = models.ForeignKey(
        TautulliServer, on_delete=models.CASCADE, related_name="+", **NO_FK_CHECK
    )
    server = models.ForeignKey(
        PlexServer, on_delete=models.CASCADE, related_name="+", **NO_FK_CHECK
    )
    user_id = models.BigIntegerField()
    plex_id = models.BigIntegerField(help_text="rating key of the movie/episode")
    parent_plex_id = models.BigIntegerField(null=True, blank=True)
    grandparent_plex_id = models.BigIntegerField(null=True, blank=True)
    plays = models.PositiveIntegerField(default=0)
    watch_seconds = models.BigIntegerField(default=0)
    last_watched_at = models.DateTimeField(null=True, blank=True)
    watched = models.BooleanField(default=False, help_text="A play reached Tautulli's threshold")

    class Meta:
        db_table = "tautulli_user_item_stats"
        constraints = [
            models.UniqueConstraint(
                fields=["tautulli", "user_id", "plex_id"], name="uniq_user_item_stats"
            ),
        ]
        # Per item and user with the numbers the rules read (index-only lookups); per user
        # first, to refresh the shows and seasons above a user's items
        # (tautulli_user_group_stats) and to read an ignored account's plays per movie or
        # episode (index-only; its movies are the rows without a show); and by last watch,
        # for "watched recently by anyone but the ignored accounts".
        indexes = [
            models.Index(
                fields=["server", "plex_id", "user_id", "watched", "last_watched_at", "plays"],
                name="uis_item_idx",
            ),
            models.Index(
                fields=[
                    "user_id",
                    "server",
                    "grandparent_plex_id",
                    "watched",
                    "plex_id",
                    "plays",
                    "last_watched_at",
                ],
                name="uis_user_show_idx2",
            ),
            models.Index(
                fields=["user_id", "server", "parent_plex_id", "watched"],
                name="uis_user_season_idx",
            ),
            models.Index(
                fields=["last_watched_at", "user_id", "server", "plex_id"],
                name="uis_recent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} · item {self.plex_id}: {self.plays} plays"


class UserGroupStats(models.Model):
    """Per-user rollup of a show or season (from tautulli_user_item_stats), refreshed with it
    by the Tautulli sync, so the rules about people read one row per user and group: their
    plays and last watch (ignored accounts), and how many of its episodes they watched past
    Tautulli's threshold (requesters)."""

    class Level(models.TextChoices):
        SHOW = "show"
        SEASON = "season"

    tautulli = models.ForeignKey(
        TautulliServer, on_delete=models.CASCADE, related_name="+", **NO_FK_CHECK
    )
    server = models.ForeignKey(
        PlexServer, on_delete=models.CASCADE, related_name="+", **NO_FK_CHECK
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    group_plex_id = models.BigIntegerField(help_text="plex_id of the show or season")
    user_id = models.BigIntegerField()
    plays = models.PositiveIntegerField(default=0)
    last_watched_at = models.DateTimeField(null=True, blank=True)
    watched_items = models.PositiveIntegerField(
        default=0, help_text="Episodes with a play past Tautulli's watched threshold"
    )

    class Meta:
        db_table = "tautulli_user_group_stats"
        constraints = [
            models.UniqueConstraint(
                fields=["tautulli", "level", "user_id", "group_plex_id"],
                name="uniq_user_group_stats",
            ),
        ]
        # Per group, newest watch first, with the numbers the page reads (index-only lookups:
        # "the newest watch by anyone but the ignored accounts" is the first row or two), and
        # by last watch for "watched recently by anyone but the ignored accounts".
        indexes = [
            models.Index(
                fields=[
                    "server",
                    "level",
                    "group_plex_id",
                    "last_watched_at",
                    "user_id",
                    "plays",
                    "watched_items",
                ],
                name="ugs_group_idx",
            ),
            models.Index(
                fields=["server", "level", "last_watched_at", "user_id", "group_plex_id"],
                name="ugs_recent_idx",
            ),
            models.Index(  # an ignored account's plays per show / season (index-only)
                fields=["user_id", "level", "server", "group_plex_id", "plays", "last_watched_at"],
                name="ugs_user_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} · {self.level} {self.group_plex_id}: {self.plays} plays"


class SeerrServer(Connection):
    """An Overseerr / Jellyseerr instance (same API): who requested what."""

    base_url = models.URLField(max_length=300)
    api_key = models.CharField(max_length=300)

    class Meta(Connection.Meta):
        verbose_name = "Seerr server"


class SeerrRequest(TimeStampedModel):
    """One Seerr request, linked to the library (by TMDB/TVDB id) and to the Tautulli user
    who asked (by Plex username, then e-mail); both links are refreshed by every sync."""

    class MediaType(models.TextChoices):
        MOVIE = "movie", "Movie"
        TV = "tv", "TV"

    seerr = models.ForeignKey(SeerrServer, on_delete=models.CASCADE, related_name="requests")
    request_id = models.BigIntegerField()
    media_type = models.CharField(max_length=10, choices=MediaType.choices)
    tmdb_id = models.BigIntegerField(null=True, blank=True)
    tvdb_id = models.BigIntegerField(null=True, blank=True)
    seasons = models.JSONField(default=list, blank=True, help_text="Season numbers; [] = all")
    status = models.PositiveSmallIntegerField(help_text="1 pending, 2 approved, 3 declined")
    requested_at = models.DateTimeField()
    requester_seerr_id = models.BigIntegerField(null=True, blank=True)
    requester_plex_username = models.CharField(max_length=200, blank=True)
    requester_username = models.CharField(max_length=200, blank=True)
    requester_email = models.CharField(max_length=300, blank=True)
    server = models.ForeignKey(
        PlexServer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    plex_id = models.BigIntegerField(null=True, blank=True, help_text="The movie or show")
    tautulli_user = models.ForeignKey(
        TautulliUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = "Seerr request"
        constraints = [
            models.UniqueConstraint(fields=["seerr", "request_id"], name="uniq_seerr_request"),
        ]
        indexes = [
            models.Index(fields=["server", "plex_id"], name="seerr_req_item_idx"),
        ]

    def __str__(self) -> str:
        return f"Request #{self.request_id} by {self.requester_name}"

    @property
    def requester_name(self) -> str:
        return (
            self.requester_plex_username
            or self.requester_username
            or self.requester_email
            or "unknown"
        )
