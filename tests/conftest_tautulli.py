"""Tautulli fixtures (registered from tests/conftest.py).

- `fast_tautulli`: no retry back-off and a short timeout, so failure tests stay quick.
- `sim`: a running TautulliSimulator (with `fast_tautulli`).
"""

from __future__ import annotations

import pytest

from simulators.tautulli import TautulliSimulator


@pytest.fixture
def fast_tautulli(settings):
    """No retry back-off and a short timeout, so failure tests stay quick."""
    settings.TAUTULLI_BACKOFF = 0
    settings.TAUTULLI_TIMEOUT = 2
    return settings


@pytest.fixture
def sim(fast_tautulli):
    with TautulliSimulator(api_key="sim-secret-key-7f3a9c") as simulator:
        yield simulator
