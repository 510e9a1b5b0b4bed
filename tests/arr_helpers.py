"""Radarr/Sonarr test helpers: the official OpenAPI documents and checks against them.

The documents are read from `../shared/specs/` beside the checkout (CI has it there; a git
worktree finds it further up). Every success is documented as 200 (the servers answer
201/202 with the same body), so bodies are checked against the 200 schema.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from openapi_schema_validator import OAS30Validator

from simulators.arr import ArrSimulator


def specs_dir() -> Path:
    base = Path(settings.BASE_DIR)
    for parent in base.parents:
        if (parent / "shared" / "specs").is_dir():
            return parent / "shared" / "specs"
    raise FileNotFoundError(f"../shared/specs not found above {base}")


@cache
def spec(kind: str) -> dict[str, Any]:
    return json.loads((specs_dir() / f"{kind}-v3-openapi.json").read_text())


def _template(doc: dict[str, Any], method: str, path: str) -> str:
    """The documented path template a concrete path belongs to (literal paths first)."""
    candidates = [t for t, ops in doc["paths"].items() if method.lower() in ops]
    for template in sorted(candidates, key=lambda t: t.count("{")):
        pattern = re.sub(r"\{[^}]+\}", r"[^/]+", template)
        if re.fullmatch(pattern, path):
            return template
    raise AssertionError(f"{method} {path} is not in the specification")


def _errors(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    validator = OAS30Validator({**schema, "components": doc["components"]})
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)
    ]


def assert_response_conforms(kind: str, method: str, path: str, body: Any) -> None:
    doc = spec(kind)
    op = doc["paths"][_template(doc, method, path)][method.lower()]
    content = op["responses"]["200"].get("content")
    if content is None:
        assert body in (None, {}), f"{method} {path}: the spec documents no body"
        return
    errors = _errors(doc, content["application/json"]["schema"], body)
    assert not errors, f"{method} {path} does not match the spec: {errors[:5]}"


def assert_calls_conform(kind: str, sim: ArrSimulator) -> None:
    """Every recorded request uses a documented path, documented query parameters and a
    request body of the documented shape."""
    doc = spec(kind)
    for call in sim.calls:
        op = doc["paths"][_template(doc, call.method, call.path)][call.method.lower()]
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        assert set(call.query) <= declared, f"{call}: undeclared query {set(call.query) - declared}"
        if call.body is not None:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            errors = _errors(doc, schema, call.body)
            assert not errors, f"{call}: request body does not match the spec: {errors[:5]}"
