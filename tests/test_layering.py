"""Dependencies point one way (../shared/DESIGN.md): a test walks every module's imports.

- ``core`` imports only the standard library (and itself), and never reads the clock;
- ``db`` imports neither the services nor an edge (web, realtime, the command line, the app);
- ``services`` import no Flask and no edge;
- ``web`` and ``realtime`` never import each other (cbt.app wires them);
- ``adapters`` import no service and no edge.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CBT = Path(__file__).resolve().parents[1] / "cbt"
EDGES = ("cbt.web", "cbt.realtime", "cbt.cli", "cbt.app")
RULES = {
    "db": ("flask", "flask_socketio", "cbt.services", *EDGES),
    "services": ("flask", "flask_socketio", "werkzeug.wrappers", *EDGES),
    "web": ("cbt.realtime",),
    "realtime": ("cbt.web",),
    "adapters": ("flask", "cbt.services", *EDGES),
}


def imports(path: Path) -> list[str]:
    """Every module ``path`` imports, absolute (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(CBT.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            found += [base] + [f"{base}.{a.name}" for a in node.names]
    return found


def modules(layer: str) -> list[Path]:
    return sorted((CBT / layer).rglob("*.py"))


def test_core_imports_only_stdlib_and_itself():
    offenders = []
    for path in modules("core"):
        for name in imports(path):
            top = name.split(".")[0]
            if name.startswith("cbt.core") or top == "__future__" or top in sys.stdlib_module_names:
                continue
            offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_core_does_not_read_the_clock():
    for path in modules("core"):
        text = path.read_text(encoding="utf-8")
        assert "datetime.now" not in text and "time.time(" not in text, path.name


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_point_one_way(layer):
    offenders = [
        f"{path.relative_to(CBT)}: {name}"
        for path in modules(layer)
        for name in imports(path)
        if any(name == banned or name.startswith(banned + ".") for banned in RULES[layer])
    ]
    assert offenders == [], f"cbt/{layer} must not import {RULES[layer]}"


def test_services_never_commit():
    """The caller owns the unit of work: the writer on exam day, ``transaction`` in the command line."""
    offenders = []
    for path in modules("services"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = node.func if isinstance(node, ast.Call) else None
            if isinstance(called, ast.Attribute) and called.attr in ("commit", "begin"):
                offenders.append(f"{path.relative_to(CBT)}:{node.lineno}: .{called.attr}()")
            if isinstance(called, ast.Name) and called.id == "transaction":
                offenders.append(f"{path.relative_to(CBT)}:{node.lineno}: transaction()")
    assert offenders == []


MAX_LINES = 400  # a module a newcomer reads in one sitting; split by concern beyond it


def test_no_module_is_longer_than_a_sitting():
    long = [
        f"{path.relative_to(CBT)}: {n} lines"
        for path in sorted(CBT.rglob("*.py"))
        if "migrations" not in path.parts and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert long == []
