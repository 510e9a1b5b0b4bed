"""Guard rails on the code's shape (CONTRIBUTING.md): checked by reading the source."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from _pytest.fixtures import FixtureFunctionDefinition

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


def _imports_from_tests(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every `from tests.… import …` in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.module, [alias.name for alias in node.names])
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.")
    ]


def test_no_test_module_imports_from_another():
    offenders = [
        f"{path.name} imports {module}"
        for path in (ROOT / "tests").glob("test_*.py")
        for module, _ in _imports_from_tests(path)
        if module.rpartition(".")[2].startswith("test_")
    ]
    assert offenders == []


def test_fixtures_are_registered_not_imported_by_name():
    offenders = []
    for path in (ROOT / "tests").glob("*.py"):
        for module, names in _imports_from_tests(path):
            source = importlib.import_module(module)
            offenders += [
                f"{path.name}: {name} from {module}"
                for name in names
                if _is_fixture(getattr(source, name, None))
            ]
    assert offenders == []  # list the plugin in tests/conftest.py's pytest_plugins instead


def _is_fixture(obj) -> bool:
    return isinstance(obj, FixtureFunctionDefinition)


MAX_FUNCTION_LINES = 40


def test_no_function_in_the_apps_is_longer_than_40_lines():
    """media/, syncing/ and deletion/ (migrations aside): def line to last line."""
    offenders = []
    for app in ("media", "syncing", "deletion"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        where = f"{path.relative_to(ROOT)}:{node.lineno}"
                        offenders.append(f"{where} {node.name} ({lines} lines)")
    assert offenders == []
