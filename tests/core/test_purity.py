"""cbt.core is the pure domain: it imports only the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "cbt" / "core"


def test_core_imports_only_stdlib_and_itself():
    offenders = []
    for path in CORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                if name.startswith("cbt.core") or top == "__future__" or top in sys.stdlib_module_names:
                    continue
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_core_does_not_read_the_clock():
    for path in CORE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "datetime.now" not in text and "time.time(" not in text, path.name
