"""What candidates' pages report (page signals, presence) and proctors' presence: evidence for the
room record, counted into one incident per candidate and kind a minute."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from cbt.core import signals
from cbt.core.errors import NotFound
from cbt.core.events import Event, Outcome, SeatChanged, StaffingChanged
from cbt.core.signals import SIGNAL_TEXT, Signal
from cbt.core.text import N_, say
from cbt.db import models, queries
from cbt.services.proctoring.common import _room_session_id, logged
from cbt.services.staff import StaffInfo

# Short names for the statements built once at import (the hot paths below).


def candidate_signal(session: Session, candidate_id: int, signal: Signal, now: datetime) -> Outcome:
    """A signal from the candidate's page (tab hidden, fullscreen exit, copy...): evidence, never a
    penalty. It names the attempt in progress and changes nothing else: nothing is locked, and the
    statements are built once (they ran in the writer as the slowest of its jobs). Within
    :data:`~cbt.core.signals.COALESCE_SECONDS` of the last of its kind it is counted into that one."""
    db = session.connection()
    candidate = db.execute(queries.PRESENCE, {"candidate_id": candidate_id}).first()
    if candidate is None:
        raise NotFound("考生不存在", code="candidate_not_found")
    attempt = db.execute(queries.ATTEMPT_IN_PROGRESS, {"candidate_id": candidate_id}).first()
    events: list[Event] = [SeatChanged(candidate.room_id, candidate_id)]
    if _incident(session, candidate, attempt, signal.kind, signal.detail(), now):
        text = SIGNAL_TEXT.get(signal.kind, signal.kind) + signals.summary(signal.detail())
        events.append(logged(signal.kind, text, now, candidate.room_id, candidate))
    return Outcome(events=tuple(events))


def set_presence(session: Session, candidate_id: int, online: bool, now: datetime) -> Outcome:
    """A candidate's page connected or went away; a change during the exam is an incident. Every
    socket of every candidate comes through here (a start storm, a restart): statements built once."""
    db = session.connection()
    candidate = db.execute(queries.PRESENCE, {"candidate_id": candidate_id}).first()
    if candidate is None:
        return Outcome()
    events: list[Event] = [SeatChanged(candidate.room_id, candidate_id)]
    db.execute(queries.SET_PRESENCE, {"candidate_id": candidate_id, "now_online": online, "seen": now})
    attempt = (
        db.execute(queries.ATTEMPT_IN_PROGRESS, {"candidate_id": candidate_id}).first()
        if candidate.online != online
        else None
    )
    if attempt is not None:  # flapping (a connection lost and back again and again) is counted into one
        kind = "reconnected" if online else "disconnected"
        if _incident(session, candidate, attempt, kind, {}, now):
            events.append(logged(kind, SIGNAL_TEXT[kind], now, candidate.room_id, candidate))
    return Outcome(events=tuple(events))


def clear_presence(session: Session, now: datetime) -> int:
    """A single server process starts with no page connected: whoever a process that died (kill -9,
    power loss) left marked online is offline until their page reconnects (within seconds), which
    the room's record then shows as 连接恢复. Returns how many were cleared."""
    result = session.execute(
        update(models.Candidate).where(models.Candidate.online.is_(True)).values(online=False, last_seen_at=now)
    )
    return result.rowcount  # type: ignore[attr-defined]


def _incident(session: Session, candidate: Row, attempt: Row | None, kind: str, detail: dict, now: datetime) -> bool:
    """What a candidate's page reported, kept as evidence for the room record of the attempt's
    session: a new incident (True), or counted into the last one of its kind (False)."""
    db = session.connection()
    since = now - timedelta(seconds=signals.COALESCE_SECONDS)
    last = db.execute(
        queries.LAST_INCIDENT_OF_KIND, {"candidate_id": candidate.id, "kind": kind, "since": since}
    ).first()
    if last is not None:
        merged = signals.coalesced(last.detail, detail, now.isoformat())
        db.execute(queries.COUNT_INTO_INCIDENT, {"incident_id": last.id, "merged": merged})
        return False
    session.add(
        models.Incident(
            room_id=candidate.room_id,
            candidate_id=candidate.id,
            attempt_id=attempt.id if attempt else None,
            session_id=attempt.session_id if attempt else _room_session_id(session, candidate.room_id, now),
            kind=kind,
            detail=detail,
            at=now,
        )
    )
    return True


def set_staff_presence(session: Session, staff: StaffInfo, room_id: int, online: bool, now: datetime) -> Outcome:
    row = session.scalar(
        select(models.RoomStaff).where(models.RoomStaff.room_id == room_id, models.RoomStaff.staff_id == staff.id)
    )
    if row is not None:
        row.online, row.last_seen_at = online, now
    text = say(N_("%(name)s进入监考页面") if online else N_("%(name)s离开监考页面"), name=staff.name)
    return Outcome(events=(StaffingChanged(room_id), logged("staff", text, now, room_id, by=staff.name)))
