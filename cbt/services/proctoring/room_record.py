"""The room record (考场记录) of a session: proctors' notes, signing it, reading it whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbt.core.errors import Conflict, Forbidden, InvalidInput
from cbt.core.events import Event, Outcome, SeatChanged
from cbt.core.text import N_, say
from cbt.db import models
from cbt.services import audit
from cbt.services.proctoring.common import (
    CATEGORIES,
    _candidates,
    _check_session,
    _log,
    _text,
    logged,
)
from cbt.services.proctoring.dashboard import (
    RoomEvent,
    room_events,
    room_view,
)
from cbt.services.staff import StaffInfo, check_room


def record_incident(
    session: Session,
    staff: StaffInfo,
    room_id: int,
    candidate_id: int | None,
    category: object,
    text: object,
    exam_session_id: int,
    now: datetime,
) -> Outcome:
    """考场记录: a proctor's written note in one of the standard categories."""
    if category not in CATEGORIES:
        raise InvalidInput("类别必须是 %(choices)s 之一", code="bad_category", choices="、".join(CATEGORIES))
    text = _text(text, N_("记录内容"))
    check_room(session, staff, room_id, act=True)
    _ensure_unsigned(session, room_id, exam_session_id)
    candidate = _candidates(session, room_id, candidate_id)[0] if candidate_id is not None else None
    session.add(
        models.Incident(
            room_id=room_id,
            candidate_id=candidate.id if candidate else None,
            session_id=exam_session_id,
            kind="proctor_record",
            category=str(category),
            text=text,
            recorded_by=staff.actor,
            detail={"session_id": exam_session_id},
            at=now,
        )
    )
    audit.record(
        session,
        at=now,
        actor=staff.actor,
        action="room.incident",
        subject=f"room:{room_id}",
        detail={"category": category, "text": text},
    )
    events: list[Event] = [SeatChanged(room_id, candidate.id)] if candidate else []
    events.append(logged("record", f"[{category}] {text}", now, room_id, candidate, staff.name))
    return Outcome(events=tuple(events))


def sign_record(session: Session, staff: StaffInfo, room_id: int, exam_session_id: int, now: datetime) -> Outcome:
    """Sign the room record of a session. Once signed it is read-only; other proctors add their signature."""
    room = check_room(session, staff, room_id, act=True)
    if staff.role != "proctor":
        raise Forbidden("考场记录由本考场监考员签字", code="proctors_sign")
    _check_session(session, room_id, exam_session_id)
    record = session.scalar(
        select(models.RoomRecord).where(
            models.RoomRecord.room_id == room_id, models.RoomRecord.session_id == exam_session_id
        )
    )
    audit.record(
        session, at=now, actor=staff.actor, action="room.sign", subject=f"room:{room_id}/session:{exam_session_id}"
    )
    anchor = audit.anchor(session, now)  # the audit log as it stands, this signature included
    signature = {"staff": staff.actor, "name": staff.name, "at": now.isoformat(), "audit": anchor.as_dict()}
    if record is None:
        view = room_view(session, staff, room_id, exam_session_id, now)
        record = models.RoomRecord(
            room_id=room.id,
            session_id=exam_session_id,
            signatures=[signature],
            content={
                "summary": view["summary"],
                "tiles": view["tiles"],
                "events": room_events(session, room_id, exam_session_id, limit=None)[0],  # every one
                "staffing": view["staffing"],
            },
            signed_at=now,
        )
        session.add(record)
    elif all(s["staff"] != staff.actor for s in record.signatures):
        record.signatures = [*record.signatures, signature]
    events: list[Event] = []
    _log(
        session,
        events,
        room_id,
        "sign",
        say(N_("%(name)s 签署考场记录"), name=staff.name),
        now,
        staff,
        None,
        exam_session_id,
    )
    return Outcome({"audit": anchor.as_dict()}, tuple(events))


def room_record(session: Session, staff: StaffInfo, room_id: int, exam_session_id: int | None, now: datetime) -> dict:
    """The room record of a session (default: the one the room is running): as signed, or as it
    stands; every event of the room in that session, never a truncated list."""
    view = room_view(session, staff, room_id, exam_session_id, now)
    current = view["session"]["id"]
    record = session.scalar(
        select(models.RoomRecord).where(models.RoomRecord.room_id == room_id, models.RoomRecord.session_id == current)
    )
    if record is not None:
        content = record.content
    else:
        content = {k: view[k] for k in ("summary", "tiles", "staffing")}
        content["events"] = room_events(session, room_id, current, limit=None)[0]
    return {
        "room": view["room"],
        "session": view["session"],
        "signed": record is not None,
        "signed_at": record.signed_at.isoformat() if record else None,
        "signatures": record.signatures if record else [],
        **content,
    }


def events_page(
    session: Session, staff: StaffInfo, room_id: int, exam_session_id: int | None, before: int | None
) -> tuple[list[RoomEvent], bool]:
    """Older events of a room's record for the dashboard's paging (:func:`room_events`)."""
    check_room(session, staff, room_id, act=False)
    if exam_session_id is None:
        raise InvalidInput("请指定场次", code="bad_session_id")
    _check_session(session, room_id, exam_session_id)
    return room_events(session, room_id, exam_session_id, before=before)


def _ensure_unsigned(session: Session, room_id: int, exam_session_id: int) -> None:
    """The session is one of the room's batch, and its record of the room is not signed yet."""
    _check_session(session, room_id, exam_session_id)
    signed = session.scalar(
        select(models.RoomRecord.id).where(
            models.RoomRecord.room_id == room_id, models.RoomRecord.session_id == exam_session_id
        )
    )
    if signed:
        raise Conflict("考场记录已签字，不能再修改", code="record_signed")
