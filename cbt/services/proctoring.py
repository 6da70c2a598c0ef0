"""What proctors do in their room, and what they see.

Every action checks the actor's right to act in the room (:func:`cbt.services.staff.check_room`),
runs in the writer (one savepoint each), is audited with who, when, what, before/after and a reason
where it changes time or ends an attempt, and returns :class:`Effects`: what the realtime layer must
push once the commit is done (tiles to refresh, a room event, messages to candidates).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Row, String, bindparam, cast, func, insert, select, update
from sqlalchemy.orm import Session, contains_eager

from cbt.core import signals
from cbt.core.attempt import AttemptState, SubmitReason
from cbt.core.errors import CbtError, Conflict, Forbidden, InvalidInput, NotFound
from cbt.core.signals import Signal
from cbt.db import models
from cbt.services import audit
from cbt.services.attempts import PART_ORDER, clock_of, close_attempt, paper, state_of
from cbt.services.staff import StaffInfo, check_room

# Short names for the statements built once at import (the hot paths below).
_A, _C, _M, _MA = models.Attempt, models.Candidate, models.Message, models.MessageAck

CATEGORIES = ("身份核验", "考生违纪", "设备故障", "网络故障", "其他")
PROCTOR_RATIO = 15  # 国家职业技能标准 1.9.3: 监考人员与考生配比 1:15 ...
MIN_PROCTORS = 2  # ... 且每个考场不少于 2 名监考人员
MAX_EXTENSION_MINUTES = 120
MAX_TEXT = 500


class Seated(Protocol):
    """A candidate as an event names them: a model, or a row of the same columns."""

    id: int
    seat: str
    name: str


@dataclass
class Effects:
    """What to push after the commit."""

    room_id: int = 0
    dirty: set[int] = field(default_factory=set)  # candidate ids whose tiles changed
    events: list[dict] = field(default_factory=list)  # entries for the room's live event list
    pushes: list[tuple[int, str, dict]] = field(default_factory=list)  # (candidate id, event, payload)
    room_pushes: list[tuple[str, dict]] = field(default_factory=list)  # (event, payload) to every page of the room
    result: dict = field(default_factory=dict)
    staffing: bool = False  # the room's staff came or went: its dashboards get the whole view (the staffing line)

    def event(self, kind: str, text: str, at: datetime, candidate: Seated | None = None, by: str = "") -> None:
        self.events.append(
            {
                "kind": kind,
                "text": text,
                "at": at.isoformat(),
                "candidate_id": candidate.id if candidate else None,
                "seat": candidate.seat if candidate else None,
                "name": candidate.name if candidate else None,
                "by": by,
            }
        )


def _log(
    session: Session,
    fx: Effects,
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
            room_id=fx.room_id,
            candidate_id=candidate.id if candidate else None,
            session_id=exam_session_id or _room_session_id(session, fx.room_id, now),
            kind=f"action:{kind}",
            text=text,
            recorded_by=staff.actor,
            detail={},
            at=now,
        )
    )
    fx.event(kind, text, now, candidate, staff.name)


def _text(value: object, what: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(f"请填写{what}", code="reason_required" if what == "原因" else "text_required")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what}不能超过 {MAX_TEXT} 字", code="text_too_long")
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
    session: Session, room_id: int, candidate_id: int | None
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
    return [(c, _current(by_candidate[c.id])) for c in candidates]


def _current(attempts: list[models.Attempt]) -> models.Attempt | None:
    """The first not submitted, in session order."""
    ordered = sorted(attempts, key=lambda a: (a.session.starts_at, PART_ORDER.get(a.session.part, 9)))
    return next((a for a in ordered if a.submitted_at is None), None)


def _remaining_payload(attempt: models.Attempt, now: datetime) -> dict:
    clock = clock_of(attempt)
    state = state_of(attempt, now)
    return {
        "attempt_id": attempt.id,
        "state": state,
        "remaining_seconds": clock.remaining_seconds(now) if clock else None,
    }


# --- actions ------------------------------------------------------------------------------------------


def admit(session: Session, staff: StaffInfo, room_id: int, candidate_id: int | None, now: datetime) -> Effects:
    """Admit one candidate after checking identity (核验身份), or, with no candidate, the whole room."""
    check_room(session, staff, room_id, act=True)
    fx = Effects(room_id)
    admitted: list[tuple[str, dict | None]] = []
    for candidate, attempt in _seated(session, room_id, candidate_id):
        if attempt is None or attempt.admitted_at is not None:
            continue
        attempt.admitted_at, attempt.admitted_by = now, staff.actor
        admitted.append((f"attempt:{attempt.id}", None))
        fx.dirty.add(candidate.id)
        fx.pushes.append((candidate.id, "admitted", {"part": attempt.session.part}))
        _log(session, fx, "admit", "已核验身份，允许入场", now, staff, candidate, attempt.session_id)
    if admitted:
        audit.record_all(session, at=now, actor=staff.actor, action="attempt.admit", subjects=admitted)
    return fx


def start_room(session: Session, staff: StaffInfo, room_id: int, now: datetime) -> Effects:
    """统一开考: admit and start every logged-in candidate of the room whose session is open."""
    check_room(session, staff, room_id, act=True)
    fx = Effects(room_id)
    seated = _seated(session, room_id, None)
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
        fx.dirty.add(candidate.id)
        fx.pushes.append((candidate.id, "started", {"part": attempt.session.part}))
    audit.record(
        session,
        at=now,
        actor=staff.actor,
        action="room.start",
        subject=f"room:{room_id}",
        detail={"started": sorted(fx.dirty)},
    )
    _log(session, fx, "start", f"统一开考（{len(fx.dirty)} 人）", now, staff, None)
    fx.result = {"started": len(fx.dirty)}
    return fx


def pause(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int | None, reason: object, now: datetime
) -> Effects:
    reason = _text(reason, "原因")
    check_room(session, staff, room_id, act=True)
    fx = Effects(room_id)
    paused: list[tuple[str, dict | None]] = []
    for candidate, attempt in _seated(session, room_id, candidate_id):
        if attempt is None or state_of(attempt, now) is not AttemptState.IN_PROGRESS:
            continue
        attempt.pauses.append(models.Pause(start=now, by=staff.actor, reason=reason))
        paused.append((f"attempt:{attempt.id}", None))
        fx.dirty.add(candidate.id)
        fx.pushes.append((candidate.id, "paused", {"reason": reason, **_remaining_payload(attempt, now)}))
        _log(session, fx, "pause", f"暂停考试：{reason}", now, staff, candidate, attempt.session_id)
    if paused:
        audit.record_all(session, at=now, actor=staff.actor, action="attempt.pause", subjects=paused, reason=reason)
    if candidate_id is not None and not fx.dirty:
        raise Conflict("该考生当前不在答题中，无法暂停", code="not_in_progress")
    return fx


def resume(session: Session, staff: StaffInfo, room_id: int, candidate_id: int | None, now: datetime) -> Effects:
    check_room(session, staff, room_id, act=True)
    fx = Effects(room_id)
    resumed: list[tuple[str, dict | None]] = []
    for candidate, attempt in _seated(session, room_id, candidate_id):
        if attempt is None:
            continue
        open_pauses = [p for p in attempt.pauses if p.end is None]
        if not open_pauses:
            continue
        for p in open_pauses:
            p.end = now
        paused_for = sum((now - p.start).total_seconds() for p in open_pauses)
        resumed.append((f"attempt:{attempt.id}", {"paused_seconds": round(paused_for, 1)}))
        fx.dirty.add(candidate.id)
        fx.pushes.append((candidate.id, "resumed", _remaining_payload(attempt, now)))
        _log(session, fx, "resume", "恢复考试", now, staff, candidate, attempt.session_id)
    if resumed:
        audit.record_all(session, at=now, actor=staff.actor, action="attempt.resume", subjects=resumed)
    if candidate_id is not None and not fx.dirty:
        raise Conflict("该考生没有处于暂停状态", code="not_paused")
    return fx


def extend(
    session: Session,
    staff: StaffInfo,
    room_id: int,
    candidate_id: int | None,
    minutes: object,
    reason: object,
    now: datetime,
) -> Effects:
    """Give extra time (延长时间) to one candidate or the whole room, with a reason."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= MAX_EXTENSION_MINUTES:
        raise InvalidInput(f"延长时间必须是 1 到 {MAX_EXTENSION_MINUTES} 分钟", code="bad_minutes")
    reason = _text(reason, "原因")
    check_room(session, staff, room_id, act=True)
    fx = Effects(room_id)
    extended: list[tuple[str, dict | None]] = []
    for candidate, attempt in _seated(session, room_id, candidate_id):
        if attempt is None or (candidate_id is None and attempt.started_at is None):
            continue  # a room-wide extension is for those already writing
        before = attempt.extension_seconds
        attempt.extension_seconds = before + minutes * 60
        after = attempt.extension_seconds
        extended.append((f"attempt:{attempt.id}", {"before_seconds": before, "after_seconds": after}))
        fx.dirty.add(candidate.id)
        fx.pushes.append((candidate.id, "time", _remaining_payload(attempt, now)))
        _log(session, fx, "extend", f"延长 {minutes} 分钟：{reason}", now, staff, candidate, attempt.session_id)
    if extended:
        audit.record_all(session, at=now, actor=staff.actor, action="attempt.extend", subjects=extended, reason=reason)
    if candidate_id is not None and not fx.dirty:
        raise Conflict("该考生没有进行中的考试", code="no_attempt")
    return fx


def _started(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int, now: datetime
) -> tuple[models.Candidate, models.Attempt]:
    """The candidate (of this room, where the actor may act) and their attempt in progress."""
    check_room(session, staff, room_id, act=True)
    ((candidate, attempt),) = _seated(session, room_id, candidate_id)
    if attempt is None or attempt.started_at is None:
        raise Conflict("该考生没有进行中的考试", code="no_attempt")
    return candidate, attempt


def force_submit(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int, reason: object, now: datetime
) -> Effects:
    reason = _text(reason, "原因")
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
    fx = Effects(room_id, {candidate.id})
    fx.pushes.append((candidate.id, "submitted", {"reason": "proctor", "message": f"监考员已为您交卷：{reason}"}))
    _log(session, fx, "force_submit", f"强制交卷：{reason}", now, staff, candidate, attempt.session_id)
    return fx


def request_termination(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int, reason: object, now: datetime
) -> Effects:
    """违纪终止, step one: a proctor asks, with a reason; a second proctor must confirm."""
    reason = _text(reason, "原因")
    candidate, attempt = _started(session, staff, room_id, candidate_id, now)
    request = models.Termination(attempt_id=attempt.id, reason=reason, requested_by=staff.actor, requested_at=now)
    session.add(request)
    session.flush()
    audit.record(
        session,
        at=now,
        actor=staff.actor,
        action="attempt.terminate_request",
        subject=f"attempt:{attempt.id}",
        reason=reason,
    )
    fx = Effects(room_id, {candidate.id}, result={"termination_id": request.id})
    _log(
        session,
        fx,
        "terminate_request",
        f"申请违纪终止（待第二名监考员确认）：{reason}",
        now,
        staff,
        candidate,
        attempt.session_id,
    )
    return fx


def confirm_termination(
    session: Session, staff: StaffInfo, room_id: int, termination_id: int, now: datetime
) -> Effects:
    check_room(session, staff, room_id, act=True)
    request = session.get(models.Termination, termination_id)
    if request is None or request.confirmed_at is not None:
        raise NotFound("没有待确认的终止申请", code="termination_not_found")
    attempt = session.get(models.Attempt, request.attempt_id)
    assert attempt is not None
    candidate = session.get(models.Candidate, attempt.candidate_id)
    assert candidate is not None
    if candidate.room_id != room_id:
        raise NotFound("没有待确认的终止申请", code="termination_not_found")
    if request.requested_by == staff.actor:
        raise Forbidden("违纪终止须由另一名监考员确认", code="second_proctor_required")
    request.confirmed_by, request.confirmed_at = staff.actor, now
    # Misconduct voids the whole sitting of the batch (成绩无效): this part, and every part not yet
    # handed in (the skill session after the theory one) is closed with it.
    ended = []
    for sitting in session.scalars(
        select(models.Attempt).where(models.Attempt.candidate_id == candidate.id).order_by(models.Attempt.id)
    ):
        if sitting.submitted_at is None:
            close_attempt(session, sitting, now, SubmitReason.TERMINATED)
            sitting.close_note = request.reason
            ended.append(sitting.id)
    audit.record(
        session,
        at=now,
        actor=staff.actor,
        action="attempt.terminate",
        subject=f"attempt:{attempt.id}",
        detail={"requested_by": request.requested_by, "attempts_closed": ended},
        reason=request.reason,
    )
    fx = Effects(room_id, {candidate.id})
    fx.pushes.append(
        (
            candidate.id,
            "submitted",
            {"reason": "terminated", "message": f"考试已被终止，本批次成绩无效：{request.reason}"},
        )
    )
    text = f"违纪终止（本批次全部科目，成绩无效）：{request.reason}"
    _log(session, fx, "terminate", text, now, staff, candidate, attempt.session_id)
    return fx


def message(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int | None, text: object, now: datetime
) -> Effects:
    text = _text(text, "消息内容")
    check_room(session, staff, room_id, act=True)
    target = _candidates(session, room_id, candidate_id)[0] if candidate_id is not None else None
    row = models.Message(room_id=room_id, candidate_id=candidate_id, text=text, sent_at=now, sent_by=staff.actor)
    session.add(row)
    session.flush()
    fx = Effects(room_id, result={"message_id": row.id})
    payload = {"id": row.id, "text": text, "at": now.isoformat(), "broadcast": target is None}
    if target is None:  # one emit for the room, not one per candidate (one Redis message in scale-out)
        fx.room_pushes.append(("notice", payload))
    else:
        fx.pushes.append((target.id, "notice", payload))
    _log(session, fx, "message", ("广播：" if target is None else "消息：") + text, now, staff, target)
    subject = f"room:{room_id}" if target is None else f"candidate:{target.id}"
    detail = {"message_id": row.id, "text": text}
    audit.record(session, at=now, actor=staff.actor, action="room.message", subject=subject, detail=detail)
    return fx


def message_all(session: Session, staff: StaffInfo, batch_id: int, text: object, now: datetime) -> list[Effects]:
    """考务广播: the exam administrator's message to every candidate of a batch, one per room (each
    room's record shows it, each candidate acknowledges it as a proctor's broadcast)."""
    if staff.role != "admin":
        raise Forbidden("只有考务管理员可以向全部考场广播", code="admins_only")
    text = _text(text, "消息内容")
    rooms = session.scalars(
        select(models.Room).where(models.Room.batch_id == batch_id).order_by(models.Room.code)
    ).all()
    if not rooms:
        raise NotFound("批次不存在或没有考场", code="batch_not_found")
    rows = [models.Message(room_id=r.id, candidate_id=None, text=text, sent_at=now, sent_by=staff.actor) for r in rooms]
    session.add_all(rows)
    session.flush()
    effects = []
    sessions = room_sessions(session, rooms[0])  # every room's record: the session it runs (two queries in all)
    unfinished = _unfinished(session, [r.id for r in rooms])
    for row in rows:
        fx = Effects(row.room_id)
        fx.room_pushes.append(("notice", {"id": row.id, "text": text, "at": now.isoformat(), "broadcast": True}))
        running = _active_session(sessions, unfinished.get(row.room_id, set()), now).id if sessions else None
        _log(session, fx, "message", "考务广播：" + text, now, staff, None, running)
        effects.append(fx)
    detail = {"rooms": len(rows), "text": text}
    audit.record(session, at=now, actor=staff.actor, action="batch.message", subject=f"batch:{batch_id}", detail=detail)
    return effects


# Built once: a broadcast brings every candidate's receipt within seconds, taken many to a job.
_ACK_MESSAGES = select(_M.id, _M.room_id, _M.candidate_id, _M.text).where(_M.id.in_(bindparam("ids", expanding=True)))
_ACK_CANDIDATES = select(_C.id, _C.room_id, _C.seat, _C.name).where(_C.id.in_(bindparam("ids", expanding=True)))
_ACK_DONE = select(_MA.message_id, _MA.candidate_id).where(
    _MA.message_id.in_(bindparam("message_ids", expanding=True)),
    _MA.candidate_id.in_(bindparam("candidate_ids", expanding=True)),
)
_ACK_INSERT = insert(_MA)


def is_id(value: object) -> bool:
    """A row id: an integer a database column holds (a page may send anything)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def acknowledge_all(session: Session, receipts: Sequence[tuple[int, object, datetime]]) -> list[Effects | CbtError]:
    """Candidates confirm they read a message (我已知晓, from their sockets), many at once: a broadcast
    brings every candidate's receipt within seconds. One outcome per (candidate id, message id, when),
    in order: its Effects, or the error of a receipt refused. A receipt changes no tile (it is an
    event of the room); twice is once."""
    message_ids = {m for _, m, _ in receipts if is_id(m)}
    db = session.connection()
    messages = {r.id: r for r in db.execute(_ACK_MESSAGES, {"ids": list(message_ids)})} if message_ids else {}
    candidate_ids = list({c for c, _, _ in receipts})
    who = {r.id: r for r in db.execute(_ACK_CANDIDATES, {"ids": candidate_ids})}
    done = (
        {
            (r.message_id, r.candidate_id)
            for r in db.execute(_ACK_DONE, {"message_ids": list(messages), "candidate_ids": candidate_ids})
        }
        if messages
        else set()
    )
    outcomes: list[Effects | CbtError] = []
    rows = []
    for candidate_id, message_id, now in receipts:
        if not is_id(message_id):
            outcomes.append(InvalidInput("消息编号无效", code="bad_message_id"))
            continue
        m, c = messages.get(message_id), who.get(candidate_id)
        if m is None or c is None or m.room_id != c.room_id or m.candidate_id not in (None, candidate_id):
            outcomes.append(NotFound("消息不存在", code="message_not_found"))
            continue
        fx = Effects(c.room_id)
        if (message_id, candidate_id) not in done:  # twice is once
            done.add((message_id, candidate_id))
            rows.append({"message_id": message_id, "candidate_id": candidate_id, "acked_at": now})
            fx.event("ack", f"已确认消息：{m.text[:20]}", now, c)
        outcomes.append(fx)
    if rows:
        db.execute(_ACK_INSERT, rows)
    return outcomes


def move_seat(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int, seat: object, reason: object, now: datetime
) -> Effects:
    """换机: the candidate continues the same attempt on another seat or device; the old login ends."""
    seat = _text(seat, "座位号")
    reason = _text(reason, "原因")
    check_room(session, staff, room_id, act=True)
    (candidate,) = _candidates(session, room_id, candidate_id)
    seat = seat[:16]
    holder = session.scalar(
        select(models.Candidate).where(
            models.Candidate.room_id == room_id, models.Candidate.seat == seat, models.Candidate.id != candidate.id
        )
    )
    if holder is not None:
        raise Conflict(f"{seat} 号座位已有考生 {holder.name}，请换一个空座位", code="seat_taken")
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
            category="设备故障",
            text=f"换机：{before} → {candidate.seat}。{reason}",
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
    fx = Effects(room_id, {candidate.id})
    fx.pushes.append((candidate.id, "moved", {"message": f"请到 {candidate.seat} 号座位重新登录，继续作答。"}))
    _log(session, fx, "move", f"换机 {before} → {candidate.seat}：{reason}", now, staff, candidate, record_session)
    return fx


def lift_lockout(
    session: Session,
    staff: StaffInfo,
    room_id: int,
    candidate_id: int,
    unlock: Callable[[str], bool],
    now: datetime,
) -> Effects:
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
    fx = Effects(room_id, result={"was_locked": was_locked})
    if was_locked:
        _log(session, fx, "unlock", "已核对证件，解除登录锁定", now, staff, candidate)
    return fx


def record_incident(
    session: Session,
    staff: StaffInfo,
    room_id: int,
    candidate_id: int | None,
    category: object,
    text: object,
    exam_session_id: int,
    now: datetime,
) -> Effects:
    """考场记录: a proctor's written note in one of the standard categories."""
    if category not in CATEGORIES:
        raise InvalidInput(f"类别必须是 {'、'.join(CATEGORIES)} 之一", code="bad_category")
    text = _text(text, "记录内容")
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
    fx = Effects(room_id, {candidate.id} if candidate else set())
    fx.event("record", f"[{category}] {text}", now, candidate, staff.name)
    return fx


def candidate_signal(session: Session, candidate_id: int, signal: Signal, now: datetime) -> Effects:
    """A signal from the candidate's page (tab hidden, fullscreen exit, copy...): evidence, never a
    penalty. It names the attempt in progress and changes nothing else: nothing is locked, and the
    statements are built once (they ran in the writer as the slowest of its jobs). Within
    :data:`~cbt.core.signals.COALESCE_SECONDS` of the last of its kind it is counted into that one."""
    db = session.connection()
    candidate = db.execute(_PRESENCE, {"candidate_id": candidate_id}).first()
    if candidate is None:
        raise NotFound("考生不存在", code="candidate_not_found")
    attempt = db.execute(_IN_PROGRESS, {"candidate_id": candidate_id}).first()
    fx = Effects(candidate.room_id, {candidate_id})
    if _incident(session, candidate, attempt, signal.kind, signal.detail(), now):
        fx.event(
            signal.kind, SIGNAL_TEXT.get(signal.kind, signal.kind) + signals.summary(signal.detail()), now, candidate
        )
    return fx


SIGNAL_TEXT = {
    "tab_hidden": "切换离开考试页面",
    "window_blur": "考试窗口失去焦点",
    "fullscreen_exit": "退出全屏",
    "copy": "尝试复制",
    "paste": "尝试粘贴",
    "contextmenu": "尝试打开右键菜单",
    "disconnected": "连接中断",
    "reconnected": "连接恢复",
    "second_login": "在另一位置登录",
}


BADGE_KINDS = [k for k in SIGNAL_TEXT if k != "reconnected"] + ["proctor_record", "seat_change"]


_PRESENCE = select(_C.id, _C.room_id, _C.seat, _C.name, _C.online).where(_C.id == bindparam("candidate_id"))
_IN_PROGRESS = (
    select(_A.id, _A.session_id)
    .where(_A.candidate_id == bindparam("candidate_id"), _A.started_at.is_not(None), _A.submitted_at.is_(None))
    .limit(1)
)
_SET_PRESENCE = (
    update(_C)
    .where(_C.id == bindparam("candidate_id"))
    .values(online=bindparam("now_online"), last_seen_at=bindparam("seen"))
)


def set_presence(session: Session, candidate_id: int, online: bool, now: datetime) -> Effects:
    """A candidate's page connected or went away; a change during the exam is an incident. Every
    socket of every candidate comes through here (a start storm, a restart): statements built once."""
    db = session.connection()
    candidate = db.execute(_PRESENCE, {"candidate_id": candidate_id}).first()
    if candidate is None:
        return Effects()
    fx = Effects(candidate.room_id, {candidate_id})
    db.execute(_SET_PRESENCE, {"candidate_id": candidate_id, "now_online": online, "seen": now})
    attempt = db.execute(_IN_PROGRESS, {"candidate_id": candidate_id}).first() if candidate.online != online else None
    if attempt is not None:  # flapping (a connection lost and back again and again) is counted into one
        kind = "reconnected" if online else "disconnected"
        if _incident(session, candidate, attempt, kind, {}, now):
            fx.event(kind, SIGNAL_TEXT[kind], now, candidate)
    return fx


def clear_presence(session: Session, now: datetime) -> int:
    """A single server process starts with no page connected: whoever a process that died (kill -9,
    power loss) left marked online is offline until their page reconnects (within seconds), which
    the room's record then shows as 连接恢复. Returns how many were cleared."""
    result = session.execute(update(_C).where(_C.online.is_(True)).values(online=False, last_seen_at=now))
    return result.rowcount  # type: ignore[attr-defined]


_LAST_OF_KIND = (
    select(models.Incident.id, models.Incident.detail)
    .where(
        models.Incident.candidate_id == bindparam("candidate_id"),
        models.Incident.kind == bindparam("kind"),
        models.Incident.at >= bindparam("since"),
    )
    .order_by(models.Incident.id.desc())
    .limit(1)
)
_COUNT_INTO = (
    update(models.Incident)
    .where(models.Incident.id == bindparam("incident_id"))
    .values(detail=bindparam("merged", type_=models.Incident.__table__.c.detail.type))
)


def _incident(session: Session, candidate: Row, attempt: Row | None, kind: str, detail: dict, now: datetime) -> bool:
    """What a candidate's page reported, kept as evidence for the room record of the attempt's
    session: a new incident (True), or counted into the last one of its kind (False)."""
    db = session.connection()
    since = now - timedelta(seconds=signals.COALESCE_SECONDS)
    last = db.execute(_LAST_OF_KIND, {"candidate_id": candidate.id, "kind": kind, "since": since}).first()
    if last is not None:
        merged = signals.coalesced(last.detail, detail, now.isoformat())
        db.execute(_COUNT_INTO, {"incident_id": last.id, "merged": merged})
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


def set_staff_presence(session: Session, staff: StaffInfo, room_id: int, online: bool, now: datetime) -> Effects:
    row = session.scalar(
        select(models.RoomStaff).where(models.RoomStaff.room_id == room_id, models.RoomStaff.staff_id == staff.id)
    )
    if row is not None:
        row.online, row.last_seen_at = online, now
    fx = Effects(room_id, staffing=True)
    fx.event("staff", f"{staff.name}{'进入' if online else '离开'}监考页面", now, by=staff.name)
    return fx


def sign_record(session: Session, staff: StaffInfo, room_id: int, exam_session_id: int, now: datetime) -> Effects:
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
    fx = Effects(room_id, result={"audit": anchor.as_dict()})
    _log(session, fx, "sign", f"{staff.name} 签署考场记录", now, staff, None, exam_session_id)
    return fx


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
) -> tuple[list[dict], bool]:
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


# --- the dashboard (read) ---------------------------------------------------------------------------

TILE_STATES = {
    "absent": "未登录",
    "waiting": "已登录待入场",
    "admitted": "已入场待开考",
    "in_progress": "答题中",
    "paused": "已暂停",
    "submitted": "已交卷",
    "offline": "离线",
}


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
    return _in_order(rows)


def _room_session_id(session: Session, room_id: int, now: datetime) -> int | None:
    """The session whose record an event of the room without an attempt of its own belongs to: the
    one the room is running (:func:`_active_session`)."""
    room = session.get(models.Room, room_id)
    sessions = room_sessions(session, room) if room is not None else []
    if not sessions:
        return None
    return _active_session(sessions, _unfinished(session, [room_id]).get(room_id, set()), now).id


def _in_order(sessions: Iterable[models.ExamSession]) -> list[models.ExamSession]:
    return sorted(sessions, key=lambda s: (s.starts_at, s.part != "theory"))


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


def _active_session(sessions: list[models.ExamSession], unfinished: set[int], now: datetime) -> models.ExamSession:
    """The first opened session the room has not finished; else the last opened one; else the first."""
    opened = [s for s in sessions if s.starts_at <= now]
    for candidate_session in opened:
        if candidate_session.id in unfinished:
            return candidate_session
    return (opened or sessions)[-1 if opened else 0]


def tile_updates(session: Session, dirty: dict[int, set[int]], now: datetime) -> dict[int, dict]:
    """The changed tiles of many rooms at once, for the coalesced live updates: a fixed number of
    queries however many rooms changed. ``dirty`` maps room ids to the candidates that changed."""
    rooms = session.scalars(select(models.Room).where(models.Room.id.in_(list(dirty)))).all()
    by_batch: dict[int, list[models.ExamSession]] = {}
    batch_ids = {r.batch_id for r in rooms}
    for s in _in_order(session.scalars(select(models.ExamSession).where(models.ExamSession.batch_id.in_(batch_ids)))):
        by_batch.setdefault(s.batch_id, []).append(s)
    unfinished = _unfinished(session, dirty)
    active = {
        r.id: _active_session(by_batch[r.batch_id], unfinished.get(r.id, set()), now)
        for r in rooms
        if r.batch_id in by_batch
    }
    ids = [c for room_id in active for c in dirty[room_id]]
    candidates = session.scalars(
        select(models.Candidate).where(models.Candidate.id.in_(ids)).order_by(models.Candidate.seat)
    ).all()
    tiles: dict[int, list[dict]] = {room_id: [] for room_id in active}
    for c, tile in zip(candidates, _tiles(session, candidates, {r: s.id for r, s in active.items()}, now), strict=True):
        tiles[c.room_id].append(tile)
    return {
        room_id: {"tiles": tiles[room_id], "session": {"id": s.id, "part": s.part}, "server_time": now.isoformat()}
        for room_id, s in active.items()
    }


def _tiles(
    session: Session, candidates: Sequence[models.Candidate], session_of_room: dict[int, int], now: datetime
) -> list[dict]:
    """The tiles of these candidates, each for the session its room shows."""
    ids = [c.id for c in candidates]
    room_of = {c.id: c.room_id for c in candidates}
    attempts = {
        a.candidate_id: a
        for a in session.scalars(
            select(models.Attempt).where(
                models.Attempt.candidate_id.in_(ids), models.Attempt.session_id.in_(set(session_of_room.values()))
            )
        )
        if a.session_id == session_of_room.get(room_of[a.candidate_id])
    }
    live = set(
        session.scalars(
            select(models.CandidateLogin.candidate_id).where(
                models.CandidateLogin.candidate_id.in_(ids), models.CandidateLogin.ended_at.is_(None)
            )
        )
    )
    answered = (
        dict(
            session.execute(
                select(models.Response.attempt_id, func.count())
                .where(
                    models.Response.attempt_id.in_([a.id for a in attempts.values()]),
                    cast(models.Response.answer, String) != "[]",
                )
                .group_by(models.Response.attempt_id)
            ).all()
        )
        if attempts
        else {}
    )
    incidents = _incident_counts(session, ids)
    return [_tile(c, attempts.get(c.id), c.id in live, answered, incidents, now, session) for c in candidates]


def _incident_counts(session: Session, candidate_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(models.Incident.candidate_id, func.count())
        .where(models.Incident.candidate_id.in_(candidate_ids), models.Incident.kind.in_(BADGE_KINDS))
        .group_by(models.Incident.candidate_id)
    )
    return {candidate_id: n for candidate_id, n in rows if candidate_id is not None}


def room_view(
    session: Session,
    staff: StaffInfo,
    room_id: int,
    exam_session_id: int | None,
    now: datetime,
) -> dict:
    """Tiles, summary, staffing and recent events of a room for one session (default: the latest open one)."""
    room = check_room(session, staff, room_id, act=False)
    sessions = room_sessions(session, room)
    current = next((s for s in sessions if s.id == exam_session_id), None)
    if current is None:
        current = _active_session(sessions, _unfinished(session, [room_id]).get(room_id, set()), now)
    candidates = session.scalars(
        select(models.Candidate).where(models.Candidate.room_id == room_id).order_by(models.Candidate.seat)
    ).all()
    tiles = _tiles(session, candidates, {room_id: current.id}, now)
    incidents = sum(t["incidents"] for t in tiles)
    view: dict = {"tiles": tiles, "session": {"id": current.id, "part": current.part}, "server_time": now.isoformat()}
    counts = {k: 0 for k in TILE_STATES}
    for t in tiles:
        counts[t["state"]] += 1
    terminations = session.execute(
        select(
            models.Termination.id,
            models.Termination.attempt_id,
            models.Termination.reason,
            models.Termination.requested_by,
        )
        .join(models.Attempt, models.Attempt.id == models.Termination.attempt_id)
        .join(models.Candidate, models.Candidate.id == models.Attempt.candidate_id)
        .where(models.Candidate.room_id == room_id, models.Termination.confirmed_at.is_(None))
    ).all()
    record = session.scalar(
        select(models.RoomRecord).where(
            models.RoomRecord.room_id == room_id, models.RoomRecord.session_id == current.id
        )
    )
    view.update(
        room={"id": room.id, "code": room.code, "name": room.name},
        sessions=[{"id": s.id, "part": s.part, "starts_at": s.starts_at.isoformat()} for s in sessions],
        summary={"total": len(candidates), **counts, "incidents": incidents},
        staffing=staffing_line(session, room_id, len(candidates)),
        pending_terminations=[
            {"id": t.id, "attempt_id": t.attempt_id, "reason": t.reason, "requested_by": t.requested_by}
            for t in terminations
        ],
        record={"signed": record is not None, "signatures": record.signatures if record else []},
    )
    view["events"], view["events_more"] = room_events(session, room_id, current.id)
    return view


def staffing_line(session: Session, room_id: int, candidates: int | None = None) -> dict:
    """The room's proctors and who of them is watching, against the standard's ratio (1:15, at least 2)."""
    if candidates is None:
        count = select(func.count()).select_from(models.Candidate).where(models.Candidate.room_id == room_id)
        candidates = session.scalar(count) or 0
    assigned = session.scalars(select(models.RoomStaff).where(models.RoomStaff.room_id == room_id)).all()
    required = max(MIN_PROCTORS, math.ceil(candidates / PROCTOR_RATIO))
    present = sum(1 for a in assigned if a.online)
    return {
        "assigned": [{"name": a.staff.name, "online": a.online} for a in assigned],
        "present": present,
        "required": required,
        "ok": present >= required,
    }


def _tile(c, attempt, logged_in, answered, incidents, now, session) -> dict:  # type: ignore[no-untyped-def]
    total = len(paper(session, attempt.form_id).questions) if attempt else 0
    if attempt is not None and attempt.submitted_at is not None:
        state = "submitted"
    elif attempt is not None and attempt.started_at is not None:
        state = (
            "offline"
            if not c.online
            else ("paused" if state_of(attempt, now) is AttemptState.PAUSED else "in_progress")
        )
    elif logged_in:
        state = "admitted" if attempt is not None and attempt.admitted_at else "waiting"
    else:
        state = "absent"
    clock = clock_of(attempt) if attempt else None
    return {
        "candidate_id": c.id,
        "seat": c.seat,
        "name": c.name,
        "ticket": c.ticket,
        "level": c.level,
        "state": state,
        "state_name": TILE_STATES[state],
        "answered": answered.get(attempt.id, 0) if attempt else 0,
        "total": total,
        "remaining_seconds": clock.remaining_seconds(now) if clock and state != "submitted" else None,
        "last_seen": c.last_seen_at.isoformat() if c.last_seen_at else None,
        "incidents": incidents.get(c.id, 0),
        "admitted": bool(attempt and attempt.admitted_at),
    }


EVENTS_PAGE = 100  # the dashboard shows this many of the newest; older ones a page at a time


def room_events(
    session: Session, room_id: int, exam_session_id: int, *, before: int | None = None, limit: int | None = EVENTS_PAGE
) -> tuple[list[dict], bool]:
    """The room's events in the record of one session, newest first: all of them (``limit=None``),
    or a page older than event ``before``; and whether older ones remain."""
    query = (
        select(models.Incident, models.Candidate)
        .outerjoin(models.Candidate, models.Candidate.id == models.Incident.candidate_id)
        .where(models.Incident.room_id == room_id, models.Incident.session_id == exam_session_id)
        .order_by(models.Incident.id.desc())
    )
    if before is not None:
        query = query.where(models.Incident.id < before)
    if limit is not None:
        query = query.limit(limit + 1)
    rows = session.execute(query).all()
    more = limit is not None and len(rows) > limit
    events = [
        {
            "id": i.id,
            "kind": i.kind,
            "text": _event_text(i),
            "at": i.at.isoformat(),
            "candidate_id": i.candidate_id,
            "seat": c.seat if c else None,
            "name": c.name if c else None,
            "by": i.recorded_by or "",
        }
        for i, c in rows[:limit]
    ]
    return events, more


def _event_text(incident: models.Incident) -> str:
    if incident.category:
        return f"[{incident.category}] {incident.text}"
    if incident.text:
        return incident.text
    return SIGNAL_TEXT.get(incident.kind, incident.kind) + signals.summary(incident.detail)
