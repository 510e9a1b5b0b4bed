"""Plex fixtures (registered from tests/conftest.py).

- `plex_library`: a small generated library (20 movies; 6 shows x 2 seasons x 3 episodes)
  that still has every awkward case: legacy and new GUIDs, unmatched local items, season 0
  specials, two shows sharing a title, multi-version, multi-part and media-less items.
- `plex_sim`: a running PlexSimulator serving `plex_library` (token "sim-token").
- `sim_server`: a PlexServer row pointing at `plex_sim`.
- `small_pages`: PLEX_PAGE_SIZE set to 7, so every listing spans several pages.
"""

from __future__ import annotations

import pytest

from simulators.library import Library, generate_library
from simulators.plex import PlexSimulator
from tests import factories
from tests.plex_helpers import SIM_TOKEN


@pytest.fixture
def plex_library() -> Library:
    return generate_library(shows=6, seasons_per_show=2, episodes_per_season=3, movies=20)


@pytest.fixture
def plex_sim(plex_library):
    with PlexSimulator(plex_library, token=SIM_TOKEN) as sim:
        yield sim


@pytest.fixture
def sim_server(db, plex_sim):
    return factories.plex_server(name="Home Plex", base_url=plex_sim.url, token=SIM_TOKEN)


@pytest.fixture
def small_pages(settings):
    settings.PLEX_PAGE_SIZE = 7
    return 7
