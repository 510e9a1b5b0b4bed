"""The demo library's life story: when things arrived and who watched what, as on a real
household server. Items arrive over `life_days`; Tautulli was installed a little later
(`history_days`), so a few items predate its history. Shows follow four fates:

- abandoned (30 %): season 1 and half of season 2 watched when they came out, then nothing;
- in progress (25 %): yearly seasons, the old ones watched long ago, the latest one airing
  now and being watched week by week (its old seasons are candidates, the show is not);
- active (25 %): watched when aired and rewatched in the last weeks;
- never watched (20 %).
Three movies in five are watched soon after they arrive (some rewatched lately); the rest
never are. Standard library only; deterministic for a seed and a `now`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulators.library import Library, Show
from simulators.tautulli_history import History

DAY = 86_400
FATES = ("abandoned",) * 6 + ("in_progress",) * 5 + ("active",) * 5 + ("never",) * 4


@dataclass(frozen=True)
class Story:
    now: int  # epoch seconds
    life_days: int = 1100
    history_days: int = 1000
    users: int = 12


def _retime_show(show: Show, fate: str, story: Story, rng: random.Random) -> None:
    """Seasons a year (or less) apart, an episode a week; everything in the past."""
    episodes = max(len(s.episodes) for s in show.seasons)
    seasons = len(show.seasons)
    if fate == "in_progress":  # the last season started a few weeks ago
        gap = 365
        last_start = story.now - (episodes - 1) * 7 * DAY - rng.randint(2, 20) * DAY
        start = last_start - (seasons - 1) * gap * DAY
    else:
        oldest = min(500 if fate == "abandoned" else 90, story.life_days // 2)
        age = rng.randint(oldest, story.life_days)
        gap = max(30, min(365, (age - episodes * 7 - 30) // max(seasons - 1, 1)))
        start = story.now - age * DAY
    show.added_at = show.updated_at = start
    for n, season in enumerate(show.seasons):
        season.added_at = season.updated_at = start + n * gap * DAY
        for e, episode in enumerate(season.episodes):
            episode.added_at = season.added_at + e * 7 * DAY + rng.randint(0, 3600)
            episode.updated_at = episode.added_at + 600


def story_retime(library: Library, story: Story, rng: random.Random) -> dict[int, str]:
    """Re-date every item along the story; returns each show's fate by rating key."""
    fates = {}
    for section in library.sections:
        for item in section.items:
            if isinstance(item, Show):
                fates[item.rating_key] = fate = FATES[rng.randrange(len(FATES))]
                _retime_show(item, fate, story, rng)
            else:
                item.added_at = story.now - rng.randint(1, story.life_days) * DAY
                item.updated_at = item.added_at + 3600
    return fates


def _watch(item, when: int, story: Story, rng: random.Random, plays: list) -> None:
    """A few users watch `item` around `when` (never before it arrived, never in the future)."""
    for user in rng.sample(range(story.users), rng.randint(1, min(3, story.users))):
        started = max(when, item.added_at + 3600) + rng.randint(0, 5 * DAY)
        if started < story.now - 3 * 3600:
            plays.append((started, item, user, rng.randint(88, 100)))


def _show_plays(show: Show, fate: str, story: Story, rng: random.Random, plays: list) -> None:
    for n, season in enumerate(show.seasons):
        for e, episode in enumerate(season.episodes):
            aired = episode.added_at + rng.randint(0, 20) * DAY
            if fate == "abandoned" and (n > 1 or (n == 1 and e >= len(season.episodes) // 2)):
                return
            if fate != "never":
                _watch(episode, aired, story, rng, plays)
            if fate == "active" and e % 3 == 0:
                _watch(episode, story.now - rng.randint(3, 200) * DAY, story, rng, plays)


def story_history(
    library: Library, fates: dict[int, str], story: Story, seed: int, max_plays: int
) -> History:
    """Tautulli's rows for the story (at most `max_plays`, an even sample), written in stop
    order as Tautulli writes them."""
    rng = random.Random(seed)
    plays: list = []
    for section in library.sections:
        for item in section.items:
            if isinstance(item, Show):
                _show_plays(item, fates[item.rating_key], story, rng, plays)
            elif item.rating_key % 5 < 3:
                _watch(item, item.added_at + rng.randint(0, 60) * DAY, story, rng, plays)
                if item.rating_key % 10 == 0:
                    _watch(item, story.now - rng.randint(2, 40) * DAY, story, rng, plays)
    installed = story.now - story.history_days * DAY
    plays = [p for p in plays if p[0] >= installed]
    if len(plays) > max_plays:
        plays = rng.sample(plays, max_plays)
    return _history_of(plays, story)


def _history_of(plays: list, story: Story) -> History:
    history = History()
    users = [history.user_for(f"user{n:03d}") for n in range(story.users)]
    rows = []
    for started, item, user, pct in plays:
        length = max(item.duration_ms, 600_000) // 1000
        rows.append((started, history.target_for(item), users[user], length * pct // 100, pct))
    for started, target, user, played, pct in sorted(rows, key=lambda r: r[0] + r[3]):
        history.append(target, user, started, played, 0, pct, None)
    return history
