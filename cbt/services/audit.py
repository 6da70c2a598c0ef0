"""The append-only, hash-chained audit log: who did what, when, to what, and why.

Each event's hash covers its own fields and the previous event's hash, so altering or deleting a
past event breaks the chain, which :func:`verify_chain` detects.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbt.db.models import AuditEvent

GENESIS = "0" * 64


def _digest(
    prev_hash: str, at: datetime, actor: str, action: str, subject: str, detail: dict, reason: str | None
) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(), actor, action, subject, detail, reason],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


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
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    events = []
    for subject, detail in subjects:
        detail = detail or {}
        digest = _digest(prev, at, actor, action, subject, detail, reason)
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


def verify_chain(session: Session) -> int | None:
    """The id of the first event whose hash does not match, or None if the chain is intact."""
    prev = GENESIS
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        at = event.at
        expected = _digest(prev, at, event.actor, event.action, event.subject, event.detail, event.reason)
        if event.prev_hash != prev or event.hash != expected:
            return event.id
        prev = event.hash
    return None
