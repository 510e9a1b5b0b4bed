"""Helpers shared by the Tautulli tests: history targets from items, times, statistics
(plain functions; the fixtures are in tests/conftest_tautulli.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from media.models import MediaItem
from simulators.tautulli import Target


def target_of(item: MediaItem) -> Target:
    """The history target (what Tautulli records about a played item) of a library item."""
    return Target(
        rating_key=item.plex_id,
        media_type=item.type,
        title=item.title,
        guid=item.guid,
        parent_rating_key=item.parent_plex_id,
        grandparent_rating_key=item.grandparent_plex_id,
        parent_title=item.parent_title or "",
        grandparent_title=item.grandparent_title or "",
        season_number=item.season_number,
        episode_number=item.episode_number,
    )


def utc(days_ago: int, hour: int = 12, minute: int = 0) -> datetime:
    """A UTC moment `days_ago` days before today at hour:minute."""
    day = datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return day - timedelta(days=days_ago)


def stats(*items: MediaItem) -> list[tuple]:
    """The statistics of items as stored now (refreshed from the database)."""
    out = []
    for item in items:
        item.refresh_from_db()
        out.append((item.total_play_count, item.total_watch_time_seconds, item.last_watched_at))
    return out
