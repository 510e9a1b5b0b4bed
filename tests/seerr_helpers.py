"""Helpers shared by the Seerr tests: the official spec, loaded once (the fixtures are in
tests/conftest_seerr.py)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from django.conf import settings
from openapi_core import Config, OpenAPI

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
