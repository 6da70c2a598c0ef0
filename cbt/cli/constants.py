"""``js-constants``: the names the page scripts share with the server, written from cbt.core into
``static/js/states.js`` (one definition: a test fails when the file and the core differ)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cbt.config import PROJECT_ROOT
from cbt.core.blueprint import PART_NAMES
from cbt.core.seating import TILE_NAMES

TARGET = PROJECT_ROOT / "static" / "js" / "states.js"
HEADER = "// Generated from cbt.core (python -m cbt js-constants); do not edit by hand"


def register(sub: Any) -> None:
    c = sub.add_parser("js-constants", help="write static/js/states.js from cbt.core (part names, tile states)")
    c.set_defaults(run=cmd_js_constants)


def source() -> str:
    """The module's text: one frozen object per constant, keys sorted."""
    lines = [HEADER]
    for name, mapping in (("PART_NAMES", PART_NAMES), ("TILE_STATES", TILE_NAMES)):
        text = json.dumps({str(k): str(v) for k, v in mapping.items()}, ensure_ascii=False, sort_keys=True)
        lines.append(f"export const {name} = Object.freeze({text});")
    return "\n".join(lines) + "\n"


def cmd_js_constants(args: argparse.Namespace) -> int:
    TARGET.write_text(source(), encoding="utf-8")
    print(f"已写入 {TARGET.relative_to(PROJECT_ROOT)}")
    return 0
