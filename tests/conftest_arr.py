"""Radarr/Sonarr fixtures (registered from tests/conftest.py).

- `radarr_sim`: a running RadarrSimulator holding `plex_library`'s movies; it sees them under
  `/movies` while Plex sees `/data/movies` (so a path mapping is needed).
- `sonarr_sim`: a running SonarrSimulator holding `plex_library`'s shows, same paths as Plex.
"""

from __future__ import annotations

import pytest

from simulators.radarr import radarr_from_library
from simulators.sonarr import sonarr_from_library
from tests import factories


@pytest.fixture
def radarr_sim(plex_library):
    with radarr_from_library(plex_library, arr_prefix="/movies") as sim:
        yield sim


@pytest.fixture
def sonarr_sim(plex_library):
    with sonarr_from_library(plex_library) as sim:
        yield sim


@pytest.fixture(autouse=True)
def _fast_arr_retries(settings):
    """Retries stay on (they are part of the contract) but without the real backoff."""
    settings.ARR_RETRY_BACKOFF = 0


@pytest.fixture
def plex_synced(sim_server):
    """`sim_server` with its library mirrored into media_items (one Plex sync)."""
    from syncing.runs import run_now

    run = run_now(kind="plex", target=sim_server, trigger="test")
    assert run.status == "success", run.error
    return sim_server


@pytest.fixture
def radarr_server(plex_synced, radarr_sim):
    """An ArrServer row for `radarr_sim`, with the /movies → /data/movies mapping."""
    return factories.arr_server(
        kind="radarr", name="Radarr HD", base_url=radarr_sim.url, api_key=radarr_sim.api_key,
        plex=plex_synced, path_mappings=[["/movies", "/data/movies"]],
    )  # fmt: skip


@pytest.fixture
def sonarr_server(plex_synced, sonarr_sim):
    return factories.arr_server(
        kind="sonarr", name="Sonarr", base_url=sonarr_sim.url, api_key=sonarr_sim.api_key,
        plex=plex_synced,
    )  # fmt: skip


@pytest.fixture
def fresh_history(plex_synced, settings):
    """`plex_synced` with a synced Tautulli history, served by a Tautulli simulator that
    execution asks for plays since approval (none: every old group is still unwatched)."""
    from simulators.tautulli import TautulliSimulator
    from tests.deletion_fixtures import history_synced

    settings.TAUTULLI_BACKOFF = 0
    with TautulliSimulator(api_key="sim-tautulli-key") as sim:
        history_synced(plex_synced, base_url=sim.url, api_key=sim.api_key)
        yield plex_synced
