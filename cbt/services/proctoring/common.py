"""What every proctor action shares: the room's event log (stored and live), checked texts,
the room's candidates with their current attempts, and which session a room is running."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from cbt.core import seating
from cbt.core.errors import Conflict, InvalidInput, NotFound
from cbt.core.events import Event, Logged, Timing
from cbt.core.text import N_, Text, message_of
from cbt.db import models
from cbt.services.attempts import countdown_of, state_of
from cbt.services.staff import StaffInfo, check_room

CATEGORIES = (N_("身份核验"), N_("考生违纪"), N_("设备故障"), N_("网络故障"), N_("其他"))  # stored as written
MAX_EXTENSION_MINUTES = 120
MAX_TEXT = 500


class Seated(Protocol):
    """A candidate as an event names them: a model, or a row of the same columns."""

    id: int
    seat: str
    name: str


def logged(kind: str, text: str, at: datetime, room_id: int, candidate: Seated | None = None, by: str = "") -> Logged:
    """An entry of the room's live event list, naming the candidate by seat and name (``text`` a
    message id, or a :class:`cbt.core.text.Said` with its parameters)."""
    if candidate is None:
        return Logged(room_id, kind, text, at, by=by)
    return Logged(room_id, kind, text, at, candidate.id, candidate.seat, candidate.name, by)


def _log(
    session: Session,
    events: list[Event],
    room_id: int,
    kind: str,
    text: str,
    now: datetime,
    staff: StaffInfo,
    candidate: models.Candidate | None = None,
    exam_session_id: int | None = None,
) -> None:
    """A proctor action goes into the room's event list, both live and stored (the record's evidence),
    in the record of ``exam_session_id`` (default: the session the room is running)."""
    session.add(
        models.Incident(
            room_id=room_id,
            candidate_id=candidate.id if candidate else None,
            session_id=exam_session_id or _room_session_id(session, room_id, now),
            kind=f"action:{kind}",
            text=text,
            recorded_by=staff.actor,
            detail={"msg": message_of(text)},
            at=now,
        )
    )
    events.append(logged(kind, text, now, room_id, candidate, staff.name))


def _text(value: object, what: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        code = "reason_required" if what == N_("原因") else "text_required"
        raise InvalidInput("请填写%(what)s", code=code, what=Text(what))
    if len(value) > MAX_TEXT:
        raise InvalidInput("%(what)s不能超过 %(most)s 字", code="text_too_long", what=Text(what), most=MAX_TEXT)
    return value.strip()


def _candidates(session: Session, room_id: int, candidate_id: int | None) -> list[models.Candidate]:
    query = select(models.Candidate).where(models.Candidate.room_id == room_id).order_by(models.Candidate.seat)
    if candidate_id is not None:
        query = query.where(models.Candidate.id == candidate_id)
    found = list(session.scalars(query))
    if candidate_id is not None and not found:
        raise NotFound("该考生不在本考场", code="candidate_not_in_room")
    return found


def _seated(
    session: Session, room_id: int, candidate_id: int | None, now: datetime
) -> list[tuple[models.Candidate, models.Attempt | None]]:
    """The room's candidates (or the one) in seat order, each with the attempt they work on now,
    locked: two queries however large the room (one per candidate made a room-wide admission 60 ms)."""
    candidates = _candidates(session, room_id, candidate_id)
    attempts = session.scalars(
        select(models.Attempt)
        .join(models.Attempt.session)
        .options(contains_eager(models.Attempt.session))
        .where(models.Attempt.candidate_id.in_([c.id for c in candidates]))
        .order_by(models.Attempt.id)  # the lock order of attempts.py
        .with_for_update(of=models.Attempt)
    ).all()
    by_candidate: dict[int, list[models.Attempt]] = defaultdict(list)
    for attempt in attempts:
        by_candidate[attempt.candidate_id].append(attempt)
    return [(c, seating.current(by_candidate[c.id], now)) for c in candidates]


def _timing(attempt: models.Attempt, now: datetime) -> Timing:
    clock = countdown_of(attempt)
    return Timing(attempt.id, state_of(attempt, now), clock.remaining_seconds(now) if clock else None)


def _started(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int, now: datetime
) -> tuple[models.Candidate, models.Attempt]:
    """The candidate (of this room, where the actor may act) and their attempt in progress."""
    check_room(session, staff, room_id, act=True)
    ((candidate, attempt),) = _seated(session, room_id, candidate_id, now)
    if attempt is None or attempt.started_at is None:
        raise Conflict("该考生没有进行中的考试", code="no_attempt")
    return candidate, attempt


def _check_session(session: Session, room_id: int, exam_session_id: int) -> None:
    belongs = session.scalar(
        select(models.ExamSession.id)
        .join(models.Room, models.Room.batch_id == models.ExamSession.batch_id)
        .where(models.Room.id == room_id, models.ExamSession.id == exam_session_id)
    )
    if belongs is None:
        raise NotFound("该场次不属于本考场所在批次", code="session_not_in_batch")


def room_sessions(session: Session, room: models.Room) -> list[models.ExamSession]:
    rows = session.scalars(select(models.ExamSession).where(models.ExamSession.batch_id == room.batch_id))
    return seating.in_order(rows)


def _room_session_id(session: Session, room_id: int, now: datetime) -> int | None:
    """The session whose record an event of the room without an attempt of its own belongs to: the
    one the room is running (:func:`cbt.core.seating.active_session`)."""
    room = session.get(models.Room, room_id)
    sessions = room_sessions(session, room) if room is not None else []
    if not sessions:
        return None
    return seating.active_session(sessions, _unfinished(session, [room_id]).get(room_id, set()), now).id


def _unfinished(session: Session, room_ids: Iterable[int]) -> dict[int, set[int]]:
    """Per room, the sessions in which some attempt is not yet submitted (one query for many rooms)."""
    rows = session.execute(
        select(models.Candidate.room_id, models.Attempt.session_id)
        .join(models.Candidate, models.Candidate.id == models.Attempt.candidate_id)
        .where(models.Candidate.room_id.in_(list(room_ids)), models.Attempt.submitted_at.is_(None))
        .group_by(models.Candidate.room_id, models.Attempt.session_id)
    ).all()
    found: dict[int, set[int]] = {}
    for room_id, session_id in rows:
        found.setdefault(room_id, set()).add(session_id)
    return found
