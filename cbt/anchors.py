"""The audit log's anchors: an append-only file in the instance folder, one JSON line an anchor
(how many events the chain had and its newest hash, when). The database can be rewritten by whoever
reaches it; this file lives beside the audit key, outside it, and only grows."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cbt.services.audit import Anchor

FILE = "audit_anchors.jsonl"


def append(instance: Path, anchor: Anchor, why: str) -> None:
    """Add an anchor, durably (an anchor that a power cut loses protects nothing)."""
    line = json.dumps({**anchor.as_dict(), "why": why}, ensure_ascii=False) + "\n"
    fd = os.open(instance / FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read(instance: Path) -> list[Anchor]:
    path = instance / FILE
    if not path.exists():
        return []
    anchors = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            anchors.append(Anchor(int(data["count"]), str(data["head"]), str(data["at"])))
    return anchors
