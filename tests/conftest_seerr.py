"""Seerr fixtures (registered from tests/conftest.py).

- `seerr_sim`: a running SeerrSimulator.
- `seerr_server`: a SeerrServer row pointing at it.
"""

from __future__ import annotations

import pytest

from simulators.seerr import SeerrSimulator
from syncing.models import SeerrServer


@pytest.fixture
def seerr_sim():
    with SeerrSimulator(api_key="sim-seerr-secret-4b1d") as simulator:
        yield simulator


@pytest.fixture
def seerr_server(db, seerr_sim) -> SeerrServer:
    return SeerrServer.objects.create(
        name="Seerr", base_url=seerr_sim.url, api_key=seerr_sim.api_key
    )
