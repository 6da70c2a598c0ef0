"""违纪终止: requested by one proctor, confirmed by a second; it voids the whole sitting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbt.core.attempt import SubmitReason
from cbt.core.errors import Forbidden, NotFound
from cbt.core.events import AttemptClosed, Event, Outcome, SeatChanged
from cbt.core.text import N_, say
from cbt.db import models
from cbt.services import audit
from cbt.services.attempts import close_attempt
from cbt.services.proctoring.common import (
    _log,
    _started,
    _text,
)
from cbt.services.staff import StaffInfo, check_room


def request_termination(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int, reason: object, now: datetime
) -> Outcome:
    """违纪终止, step one: a proctor asks, with a reason; a second proctor must confirm."""
    reason = _text(reason, N_("原因"))
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
    events: list[Event] = [SeatChanged(room_id, candidate.id)]
    _log(
        session,
        events,
        room_id,
        "terminate_request",
        say(N_("申请违纪终止（待第二名监考员确认）：%(reason)s"), reason=reason),
        now,
        staff,
        candidate,
        attempt.session_id,
    )
    return Outcome({"termination_id": request.id}, tuple(events))


def confirm_termination(
    session: Session, staff: StaffInfo, room_id: int, termination_id: int, now: datetime
) -> Outcome:
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
    events: list[Event] = [AttemptClosed(room_id, candidate.id, SubmitReason.TERMINATED, request.reason)]
    text = say(N_("违纪终止（本批次全部科目，成绩无效）：%(reason)s"), reason=request.reason)
    _log(session, events, room_id, "terminate", text, now, staff, candidate, attempt.session_id)
    return Outcome(events=tuple(events))
