"""What proctors do to candidates and rooms: admit, start the room, pause, resume, extend, force a
hand-in, move a candidate to another seat, lift a login lockout."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbt.core.attempt import AttemptState, SubmitReason
from cbt.core.errors import Conflict, InvalidInput
from cbt.core.events import (
    AttemptClosed,
    AttemptPaused,
    AttemptResumed,
    AttemptStarted,
    CandidateAdmitted,
    Event,
    Outcome,
    SeatMoved,
    TimeExtended,
)
from cbt.core.text import N_, say
from cbt.db import models
from cbt.services import audit
from cbt.services.attempts import close_attempt, state_of
from cbt.services.proctoring.common import (
    MAX_EXTENSION_MINUTES,
    _candidates,
    _log,
    _room_session_id,
    _seated,
    _started,
    _text,
    _timing,
)
from cbt.services.staff import StaffInfo, check_room


def admit(session: Session, staff: StaffInfo, room_id: int, candidate_id: int | None, now: datetime) -> Outcome:
    """Admit one candidate after checking identity (核验身份), or, with no candidate, the whole room."""
    check_room(session, staff, room_id, act=True)
    events: list[Event] = []
    admitted: list[tuple[str, dict | None]] = []
    for candidate, attempt in _seated(session, room_id, candidate_id, now):
        if attempt is None or attempt.admitted_at is not None:
            continue
        attempt.admitted_at, attempt.admitted_by = now, staff.actor
        admitted.append((f"attempt:{attempt.id}", None))
        events.append(CandidateAdmitted(room_id, candidate.id, attempt.part))
        _log(session, events, room_id, "admit", N_("已核验身份，允许入场"), now, staff, candidate, attempt.session_id)
    if admitted:
        audit.record_all(session, at=now, actor=staff.actor, action="attempt.admit", subjects=admitted)
    return Outcome(events=tuple(events))


def start_room(session: Session, staff: StaffInfo, room_id: int, now: datetime) -> Outcome:
    """统一开考: admit and start every logged-in candidate of the room whose session is open."""
    check_room(session, staff, room_id, act=True)
    events: list[Event] = []
    started: list[int] = []
    seated = _seated(session, room_id, None, now)
    live = set(
        session.scalars(
            select(models.CandidateLogin.candidate_id).where(
                models.CandidateLogin.candidate_id.in_([c.id for c, _ in seated]),
                models.CandidateLogin.ended_at.is_(None),
            )
        )
    )
    for candidate, attempt in seated:
        if candidate.id not in live or attempt is None or attempt.started_at or now < attempt.session.starts_at:
            continue
        attempt.admitted_at = attempt.admitted_at or now
        attempt.admitted_by = attempt.admitted_by or staff.actor
        attempt.started_at = now
        started.append(candidate.id)
        events.append(AttemptStarted(room_id, candidate.id, attempt.part))
    audit.record(
        session,
        at=now,
        actor=staff.actor,
        action="room.start",
        subject=f"room:{room_id}",
        detail={"started": sorted(started)},
    )
    _log(session, events, room_id, "start", say(N_("统一开考（%(count)s 人）"), count=len(started)), now, staff, None)
    return Outcome({"started": len(started)}, tuple(events))


def pause(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int | None, reason: object, now: datetime
) -> Outcome:
    reason = _text(reason, N_("原因"))
    check_room(session, staff, room_id, act=True)
    events: list[Event] = []
    paused: list[tuple[str, dict | None]] = []
    for candidate, attempt in _seated(session, room_id, candidate_id, now):
        if attempt is None or state_of(attempt, now) is not AttemptState.IN_PROGRESS:
            continue
        attempt.pauses.append(models.Pause(start=now, by=staff.actor, reason=reason))
        paused.append((f"attempt:{attempt.id}", None))
        events.append(AttemptPaused(room_id, candidate.id, reason, _timing(attempt, now)))
        _log(
            session,
            events,
            room_id,
            "pause",
            say(N_("暂停考试：%(reason)s"), reason=reason),
            now,
            staff,
            candidate,
            attempt.session_id,
        )
    if paused:
        audit.record_all(session, at=now, actor=staff.actor, action="attempt.pause", subjects=paused, reason=reason)
    if candidate_id is not None and not paused:
        raise Conflict("该考生当前不在答题中，无法暂停", code="not_in_progress")
    return Outcome(events=tuple(events))


def resume(session: Session, staff: StaffInfo, room_id: int, candidate_id: int | None, now: datetime) -> Outcome:
    check_room(session, staff, room_id, act=True)
    events: list[Event] = []
    resumed: list[tuple[str, dict | None]] = []
    for candidate, attempt in _seated(session, room_id, candidate_id, now):
        if attempt is None:
            continue
        open_pauses = [p for p in attempt.pauses if p.end is None]
        if not open_pauses:
            continue
        for p in open_pauses:
            p.end = now
        paused_for = sum((now - p.start).total_seconds() for p in open_pauses)
        resumed.append((f"attempt:{attempt.id}", {"paused_seconds": round(paused_for, 1)}))
        events.append(AttemptResumed(room_id, candidate.id, _timing(attempt, now)))
        _log(session, events, room_id, "resume", N_("恢复考试"), now, staff, candidate, attempt.session_id)
    if resumed:
        audit.record_all(session, at=now, actor=staff.actor, action="attempt.resume", subjects=resumed)
    if candidate_id is not None and not resumed:
        raise Conflict("该考生没有处于暂停状态", code="not_paused")
    return Outcome(events=tuple(events))


def extend(
    session: Session,
    staff: StaffInfo,
    room_id: int,
    candidate_id: int | None,
    minutes: object,
    reason: object,
    now: datetime,
) -> Outcome:
    """Give extra time (延长时间) to one candidate or the whole room, with a reason."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= MAX_EXTENSION_MINUTES:
        raise InvalidInput("延长时间必须是 1 到 %(most)s 分钟", code="bad_minutes", most=MAX_EXTENSION_MINUTES)
    reason = _text(reason, N_("原因"))
    check_room(session, staff, room_id, act=True)
    events: list[Event] = []
    extended: list[tuple[str, dict | None]] = []
    for candidate, attempt in _seated(session, room_id, candidate_id, now):
        if attempt is None or (candidate_id is None and attempt.started_at is None):
            continue  # a room-wide extension is for those already writing
        before = attempt.extension_seconds
        attempt.extension_seconds = before + minutes * 60
        after = attempt.extension_seconds
        extended.append((f"attempt:{attempt.id}", {"before_seconds": before, "after_seconds": after}))
        events.append(TimeExtended(room_id, candidate.id, _timing(attempt, now)))
        text = say(N_("延长 %(minutes)s 分钟：%(reason)s"), minutes=minutes, reason=reason)
        _log(session, events, room_id, "extend", text, now, staff, candidate, attempt.session_id)
    if extended:
        audit.record_all(session, at=now, actor=staff.actor, action="attempt.extend", subjects=extended, reason=reason)
    if candidate_id is not None and not extended:
        raise Conflict("该考生没有进行中的考试", code="no_attempt")
    return Outcome(events=tuple(events))


def force_submit(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int, reason: object, now: datetime
) -> Outcome:
    reason = _text(reason, N_("原因"))
    candidate, attempt = _started(session, staff, room_id, candidate_id, now)
    close_attempt(session, attempt, now, SubmitReason.PROCTOR)
    attempt.close_note = reason
    audit.record(
        session,
        at=now,
        actor=staff.actor,
        action="attempt.force_submit",
        subject=f"attempt:{attempt.id}",
        reason=reason,
    )
    events: list[Event] = [AttemptClosed(room_id, candidate.id, SubmitReason.PROCTOR, reason)]
    _log(
        session,
        events,
        room_id,
        "force_submit",
        say(N_("强制交卷：%(reason)s"), reason=reason),
        now,
        staff,
        candidate,
        attempt.session_id,
    )
    return Outcome(events=tuple(events))


def move_seat(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int, seat: object, reason: object, now: datetime
) -> Outcome:
    """换机: the candidate continues the same attempt on another seat or device; the old login ends."""
    seat = _text(seat, N_("座位号"))
    reason = _text(reason, N_("原因"))
    check_room(session, staff, room_id, act=True)
    (candidate,) = _candidates(session, room_id, candidate_id)
    seat = seat[:16]
    holder = session.scalar(
        select(models.Candidate).where(
            models.Candidate.room_id == room_id, models.Candidate.seat == seat, models.Candidate.id != candidate.id
        )
    )
    if holder is not None:
        raise Conflict(
            "%(seat)s 号座位已有考生 %(name)s，请换一个空座位", code="seat_taken", seat=seat, name=holder.name
        )
    before = candidate.seat
    candidate.seat = seat
    record_session = _room_session_id(session, room_id, now)
    for login in session.scalars(
        select(models.CandidateLogin).where(
            models.CandidateLogin.candidate_id == candidate.id, models.CandidateLogin.ended_at.is_(None)
        )
    ):
        login.ended_at, login.ended_reason = now, "moved"
    session.add(
        models.Incident(
            room_id=room_id,
            candidate_id=candidate.id,
            session_id=record_session,
            kind="seat_change",
            category=N_("设备故障"),
            text=say(
                N_("换机：%(before)s → %(after)s。%(reason)s"), before=before, after=candidate.seat, reason=reason
            ),
            recorded_by=staff.actor,
            detail={"before": before, "after": candidate.seat},
            at=now,
        )
    )
    audit.record(
        session,
        at=now,
        actor=staff.actor,
        action="candidate.move",
        subject=f"candidate:{candidate.id}",
        detail={"before": before, "after": candidate.seat},
        reason=reason,
    )
    events: list[Event] = [SeatMoved(room_id, candidate.id, candidate.seat)]
    text = say(N_("换机 %(before)s → %(after)s：%(reason)s"), before=before, after=candidate.seat, reason=reason)
    _log(session, events, room_id, "move", text, now, staff, candidate, record_session)
    return Outcome(events=tuple(events))


def lift_lockout(
    session: Session,
    staff: StaffInfo,
    room_id: int,
    candidate_id: int,
    unlock: Callable[[str], bool],
    now: datetime,
) -> Outcome:
    """解除登录锁定: after checking the person's papers, the proctor lets a candidate locked out by
    failed logins try again now. ``unlock(ticket)`` lifts it and says whether it was locked."""
    check_room(session, staff, room_id, act=True)
    (candidate,) = _candidates(session, room_id, candidate_id)
    was_locked = unlock(candidate.ticket)
    audit.record(
        session,
        at=now,
        actor=staff.actor,
        action="login.unlock",
        subject=f"candidate:{candidate.id}",
        detail={"ticket": candidate.ticket, "was_locked": was_locked},
    )
    events: list[Event] = []
    if was_locked:
        _log(session, events, room_id, "unlock", N_("已核对证件，解除登录锁定"), now, staff, candidate)
    return Outcome({"was_locked": was_locked}, tuple(events))
