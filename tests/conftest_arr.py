"""Radarr/Sonarr fixtures (registered from tests/conftest.py).

- `radarr_sim`: a running RadarrSimulator holding `plex_library`'s movies; it sees them under
  `/movies` while Plex sees `/data/movies` (so a path mapping is needed).
- `sonarr_sim`: a running SonarrSimulator holding `plex_library`'s shows, same paths as Plex.
"""

from __future__ import annotations

import pytest

from simulators.radarr import radarr_from_library
from simulators.sonarr import sonarr_from_library


@pytest.fixture
def radarr_sim(plex_library):
    with radarr_from_library(plex_library, arr_prefix="/movies") as sim:
        yield sim


@pytest.fixture
def sonarr_sim(plex_library):
    with sonarr_from_library(plex_library) as sim:
        yield sim
