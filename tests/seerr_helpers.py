"""Helpers shared by the Seerr tests: a simulator fixture and the official spec, loaded once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from openapi_core import Config, OpenAPI

from simulators.seerr import SeerrSimulator
from syncing.models import SeerrServer

# ../shared/specs beside the repository (CI, /work/main); from a git worktree nested one
# level deeper, the nearest parent that has it.
SPEC_PATH = next(
    (p / "shared" / "specs" / "seerr-api.yml" for p in Path(settings.BASE_DIR).resolve().parents
     if (p / "shared" / "specs" / "seerr-api.yml").is_file()),
    Path(settings.BASE_DIR).parent / "shared" / "specs" / "seerr-api.yml",
)  # fmt: skip


@cache
def seerr_openapi() -> OpenAPI:
    """The official Seerr spec (it does not pass spec validation: loaded with it off)."""
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


@pytest.fixture
def seerr_sim():
    with SeerrSimulator(api_key="sim-seerr-secret-4b1d") as simulator:
        yield simulator


@pytest.fixture
def seerr_server(db, seerr_sim) -> SeerrServer:
    return SeerrServer.objects.create(
        name="Seerr", base_url=seerr_sim.url, api_key=seerr_sim.api_key
    )
