"""Guard rails on the code's shape (CONTRIBUTING.md): checked by reading the source."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = [p.parent for p in ROOT.glob("*/apps.py")]


def test_each_model_admin_is_registered_once_without_unregistering():
    offenders = [
        str(path.relative_to(ROOT))
        for app in APPS
        for path in app.rglob("*.py")
        if "site.unregister(" in path.read_text()
    ]
    assert offenders == []
