"""Helpers shared by the Plex tests (plain values and functions; fixtures are in
tests/conftest_plex.py)."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

SIM_TOKEN = "sim-token"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plex"
HA = FIXTURES / "home-assistant"


def fixture_xml(name: str) -> ElementTree.Element:
    """A response recorded from a real Plex server (home-assistant's test fixtures)."""
    text = (HA / name).read_text()
    return ElementTree.fromstring(
        text.replace("{name}", "x").replace("{machine_identifier}", "y").encode()
    )
