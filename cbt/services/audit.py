"""The append-only audit log: who did what, when, to what, and why; keyed, chained and anchored.

Each event's hash is an HMAC (with a key kept outside the database, in the instance folder) over its
own fields and the previous event's hash: whoever can write the database but not read the key can
neither alter an event nor forge a new chain. Anchors (how many events there were and the newest
one's hash, at a moment) go onto every signed room record and into an append-only file beside the
key (:mod:`cbt.anchors`), so deleting the newest events, or rewriting the chain with the key, is
detected too: :func:`verify_chain` checks the chain against every anchor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cbt.db.models import AuditEvent

GENESIS = "0" * 64


class AuditKeyMissing(RuntimeError):
    """A session without the audit key (``make_session_factory(..., audit_key=...)``) wrote an event."""


@dataclass(frozen=True)
class Anchor:
    """The chain at a moment: ``count`` events, the newest with ``head`` as its hash."""

    count: int
    head: str
    at: str

    def as_dict(self) -> dict[str, object]:
        return {"count": self.count, "head": self.head, "at": self.at}


@dataclass(frozen=True)
class Finding:
    """What :func:`verify_chain` found wrong: the first broken event, or events missing."""

    event_id: int | None
    message: str


def _key(session: Session) -> bytes:
    key = session.info.get("audit_key")
    if not key:
        raise AuditKeyMissing("审计密钥缺失：会话未配置 audit_key")
    return key.encode("utf-8")


def _digest(
    key: bytes, prev_hash: str, at: datetime, actor: str, action: str, subject: str, detail: dict, reason: str | None
) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(), actor, action, subject, detail, reason],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: dict | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction."""
    (event,) = record_all(session, at=at, actor=actor, action=action, subjects=[(subject, detail)], reason=reason)
    return event


def record_all(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    subjects: list[tuple[str, dict | None]],
    reason: str | None = None,
) -> list[AuditEvent]:
    """One action on many subjects (a room-wide admission, pause...): an event each, chained in one go."""
    key = _key(session)
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    events = []
    for subject, detail in subjects:
        detail = detail or {}
        digest = _digest(key, prev, at, actor, action, subject, detail, reason)
        events.append(
            AuditEvent(
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                detail=detail,
                reason=reason,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    session.add_all(events)
    session.flush()
    return events


def anchor(session: Session, now: datetime) -> Anchor:
    """The chain as it stands in this transaction (after its own events)."""
    count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    head = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    return Anchor(count, head, now.isoformat())


def verify_chain(session: Session, anchors: Iterable[Anchor] = ()) -> Finding | None:
    """The first thing wrong with the log (an event whose hash does not match, or events an anchor
    counted that are gone), or None if the chain is intact and holds every anchor."""
    key = _key(session)
    wanted = {a.count: a for a in anchors}
    prev, count, last_id = GENESIS, 0, None
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        expected = _digest(key, prev, event.at, event.actor, event.action, event.subject, event.detail, event.reason)
        if event.prev_hash != prev or event.hash != expected:
            return Finding(event.id, f"第 {event.id} 条审计记录被篡改或损坏（哈希不符）")
        count += 1
        if count in wanted and wanted.pop(count).head != event.hash:
            return Finding(event.id, f"第 {event.id} 条审计记录与锚点不符：其前的记录被改写")
        prev, last_id = event.hash, event.id
    if wanted:
        missing = min(wanted)
        return Finding(
            last_id,
            f"审计记录缺失：锚点（{wanted[missing].at}）记有 {missing} 条，现仅有 {count} 条"
            f"，第 {count + 1} 条起已被删除",
        )
    return None
