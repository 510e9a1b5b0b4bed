"""Demo sizes shared by the demo tests: small enough to sync in a second or two."""

from __future__ import annotations

from simulators.demo import DemoSize

SMALL = DemoSize(
    shows=6,
    seasons_per_show=2,
    episodes_per_season=4,
    movies=30,
    users=4,
    days=90,
    plays=400,
    requests=20,
)
