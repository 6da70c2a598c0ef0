"""Evidence that cannot be rewritten: the audit chain is keyed (HMAC, the key outside the database)
and anchored (count and head hash in an append-only file and on every signed record), so an attacker
with the database, and even one with the key, is caught; `audit verify` names what is wrong."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from datetime import UTC, datetime

import pytest

from tests.test_cli import run


def events(db_path: str) -> list[int]:
    with sqlite3.connect(db_path) as db:
        return [id_ for (id_,) in db.execute("SELECT id FROM audit_events ORDER BY id")]


def rechain(db_path: str, start_id: int, digest) -> None:
    """Rewrite the chain from ``start_id`` on, as an attacker who changed an event would have to."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT id, at, actor, action, subject, detail, reason, hash FROM audit_events ORDER BY id")
        prev = "0" * 64
        for id_, at, actor, action, subject, detail, reason, stored in rows.fetchall():
            if id_ < start_id:
                prev = stored
                continue
            when = datetime.fromisoformat(at).replace(tzinfo=UTC)
            body = [prev, when.isoformat(), actor, action, subject, json.loads(detail), reason]
            text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
            prev = digest(text.encode())
            db.execute(
                "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?",
                (body[0], prev, id_),
            )


@pytest.fixture
def anchored(cli_env, capsys):
    """A demo's audit log (staff accounts, assignments...), anchored once."""
    assert run(capsys, "demo")[0] == 0
    code, out, _ = run(capsys, "audit", "anchor")
    assert code == 0 and "已记录锚点" in out
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0 and "1 个锚点" in out
    return os.environ["CBT_DATABASE_URL"].removeprefix("sqlite:///")


def test_an_event_rewritten_with_its_hashes_recomputed_is_named(anchored, capsys):
    target = events(anchored)[3]
    with sqlite3.connect(anchored) as db:
        db.execute("UPDATE audit_events SET actor = 'cli:nobody' WHERE id = ?", (target,))
    rechain(anchored, target, lambda body: hashlib.sha256(body).hexdigest())  # no key: the old attack
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and f"第 {target} 条审计记录被篡改" in err


def test_the_newest_events_deleted_are_missing_against_the_anchor(anchored, capsys):
    count = len(events(anchored))
    with sqlite3.connect(anchored) as db:
        db.execute("DELETE FROM audit_events WHERE id > (SELECT MAX(id) - 3 FROM audit_events)")
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and "审计记录缺失" in err and f"记有 {count} 条" in err and f"现仅有 {count - 3} 条" in err


def test_a_chain_rewritten_even_with_the_key_breaks_the_anchor(anchored, cli_env, capsys):
    key = (cli_env / "instance" / "audit_key").read_text().strip().encode()
    target = events(anchored)[2]
    with sqlite3.connect(anchored) as db:
        db.execute("UPDATE audit_events SET reason = 'rewritten' WHERE id = ?", (target,))
    rechain(anchored, target, lambda body: hmac.new(key, body, hashlib.sha256).hexdigest())
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and "与锚点不符" in err
