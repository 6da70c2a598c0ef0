"""Taking the exam: status, start, the candidate's view of the paper, saving answers, submission.

Write use cases (``start``, ``save_response``, ``submit``, ``expire_overdue``) run in the group-commit
writer (:mod:`cbt.db.writer`), each in its own savepoint; the caller is answered after the commit.
Reads (``status``, ``attempt_view``) run on the request's own session. Every use case is given
``now``; the attempt row is locked (FOR UPDATE) so a save and a submission never interleave.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypedDict

from sqlalchemy import Row
from sqlalchemy.orm import Session

from cbt.core import seating
from cbt.core.attempt import AttemptState, SubmitReason, attempt_state, receipt_code
from cbt.core.blueprint import PART_NAMES
from cbt.core.errors import Conflict, InvalidInput, NotFound
from cbt.core.events import AttemptClosed, Outcome
from cbt.core.items import LEVEL_NAMES, question_type
from cbt.core.scoring import score_attempt
from cbt.core.seating import latest_started, missed, session_order
from cbt.core.timing import Countdown, Pause
from cbt.db import models, queries
from cbt.services import paper_view
from cbt.services.paper_view import paper

MAX_SEQ = 2**31 - 1


# What the candidate API answers (the shapes of cbt/web/openapi.py), as the services return them.


class CandidateCard(TypedDict):
    ticket: str
    name: str
    id_number: str  # masked: the first 6 and last 4 characters
    level: int
    level_name: str
    occupation: str
    room: str
    seat: str
    batch: str
    mode: str


class SessionStatus(TypedDict):
    part: str
    part_name: str
    starts_at: str
    opens_in_seconds: float
    duration_minutes: float
    state: str  # an AttemptState, or "missed" (缺考)
    submitted_at: str | None
    receipt: str | None
    score: dict[str, object] | None


class Status(TypedDict):
    candidate: CandidateCard
    sessions: list[SessionStatus]
    current: str | None
    terminated: bool
    server_time: str


class Started(TypedDict):
    attempt_id: int
    part: str


class SavedAnswer(TypedDict):
    question_id: str
    seq: int  # the stored one: the given one, or a newer one already kept
    saved_at: str
    remaining_seconds: float
    stale: bool  # the given answer was older than the stored one and changed nothing


class Submission(TypedDict):
    attempt_id: int
    state: str
    receipt: str | None
    submitted_at: str
    submit_reason: str | None
    answered: int
    questions: int


# --- helpers ----------------------------------------------------------------------------------------


def countdown_of(attempt: models.Attempt) -> Countdown | None:
    if attempt.started_at is None:
        return None
    return _countdown(attempt.started_at, attempt.duration_seconds, attempt.extension_seconds, attempt.pauses)


def _countdown(started_at: datetime, duration_seconds: int, extension_seconds: int, pauses: Iterable) -> Countdown:
    """An attempt's clock from its stored columns and pauses (model objects or bare rows)."""
    return Countdown(
        started_at,
        timedelta(seconds=duration_seconds),
        timedelta(seconds=extension_seconds),
        tuple(Pause(p.start, p.end) for p in pauses),
    )


def state_of(attempt: models.Attempt, now: datetime) -> AttemptState:
    return attempt_state(countdown_of(attempt), attempt.submitted_at, now)


def _sittings(session: Session, candidate_id: int, *, lock: bool = False) -> list[Row]:
    """The candidate's attempts with their sessions' times, in session order (locked: in the writer)."""
    statement = queries.SITTINGS_LOCKED if lock else queries.SITTINGS
    rows = session.connection().execute(statement, {"candidate_id": candidate_id}).all()
    return sorted(rows, key=lambda a: session_order(a.starts_at, a.part))


def _sitting_countdown(session: Session, sitting: Row) -> Countdown | None:
    if sitting.started_at is None:
        return None
    pauses = session.connection().execute(queries.PAUSES, {"attempt_id": sitting.id}).all()
    return _countdown(sitting.started_at, sitting.duration_seconds, sitting.extension_seconds, pauses)


# --- reads ------------------------------------------------------------------------------------------


def _who(session: Session, candidate_id: int) -> Row:
    row = session.connection().execute(queries.CANDIDATE_CARD, {"candidate_id": candidate_id}).first()
    if row is None:
        raise NotFound("考生不存在", code="candidate_not_found")
    return row


def candidate_info(session: Session, candidate_id: int) -> CandidateCard:
    """Who the candidate is, as the login answer shows it."""
    return candidate_view(_who(session, candidate_id))


def status(session: Session, candidate_id: int, now: datetime) -> Status:
    """What the identity page shows: who, where, which sessions, when they open."""
    who = _who(session, candidate_id)
    sittings = _sittings(session, candidate_id)
    current = seating.current(sittings, now)
    sessions: list[SessionStatus] = []
    for a in sittings:
        state = attempt_state(_sitting_countdown(session, a), a.submitted_at, now)
        sessions.append(
            {
                "part": a.part,
                "part_name": PART_NAMES[a.part],
                "starts_at": a.starts_at.isoformat(),
                "opens_in_seconds": round(max(0.0, (a.starts_at - now).total_seconds()), 3),
                "duration_minutes": round(a.duration_seconds / 60, 2),
                "state": "missed" if missed(a, now) else state,
                "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
                "receipt": a.receipt,
                "score": _visible_score(session, who, a),
            }
        )
    terminated = any(a.submit_reason == SubmitReason.TERMINATED for a in sittings)
    return {
        "candidate": candidate_view(who),
        "sessions": sessions,
        "current": current.part if current else None,
        "terminated": terminated,  # 违纪终止: the sitting is void, no part can be taken
        "server_time": now.isoformat(),
    }


def candidate_view(who: Row) -> CandidateCard:
    return {
        "ticket": who.ticket,
        "name": who.name,
        "id_number": who.id_number[:6] + "********" + who.id_number[-4:],
        "level": who.level,
        "level_name": LEVEL_NAMES[who.level],
        "occupation": f"{who.occupation_name}（{who.occupation_code}）",
        "room": who.room,
        "seat": who.seat,
        "batch": who.batch,
        "mode": who.mode,
    }


def _visible_score(session: Session, who: Row, sitting: Row) -> dict[str, object] | None:
    if not who.show_scores or sitting.submitted_at is None:
        return None
    score = session.connection().execute(queries.ATTEMPT_SCORE, {"attempt_id": sitting.id}).scalar()
    return None if score is None else {"total": score["total"], "passed": score["passed"]}


class PaperText(NamedTuple):
    text: str  # the candidate's paper as the API sends it (JSON)
    attempt_id: int
    overdue: bool  # time ran out and no one has submitted it yet


def attempt_json(session: Session, candidate_id: int, now: datetime) -> PaperText:
    """The candidate's paper in their own order, with their saved answers, as JSON. Never any key."""
    sittings = _sittings(session, candidate_id)
    current = seating.current(sittings, now)
    attempt = current if current is not None and current.started_at is not None else latest_started(sittings)
    if attempt is None:
        raise Conflict("考试尚未开始，请先点击“开始考试”", code="attempt_not_started")
    db = session.connection()
    p = paper(session, attempt.form_id)
    clock = _sitting_countdown(session, attempt)
    assert clock is not None
    state = attempt_state(clock, attempt.submitted_at, now)
    order = db.execute(queries.ATTEMPT_ORDER, {"attempt_id": attempt.id}).scalar_one()
    saved = db.execute(queries.ATTEMPT_ANSWERS, {"attempt_id": attempt.id}).all()
    overdue = state is not AttemptState.SUBMITTED and clock.overdue(now)
    head = {
        "attempt_id": attempt.id,
        "part": attempt.part,
        "part_name": PART_NAMES[attempt.part],
        "state": state,
        "remaining_seconds": 0 if state is AttemptState.SUBMITTED else clock.remaining_seconds(now),
        "overdue": overdue,
        "submitted_at": attempt.submitted_at.isoformat() if attempt.submitted_at else None,
        "submit_reason": attempt.submit_reason,
        "receipt": attempt.receipt,
        "responses": {r.question_id: {"answer": r.answer, "seq": r.seq} for r in saved},
    }
    return PaperText(paper_view.paper_json(p, head, order), attempt.id, overdue)


def attempt_view(session: Session, candidate_id: int, now: datetime) -> dict[str, Any]:
    """:func:`attempt_json`, read back: what the candidate's page receives."""
    return json.loads(attempt_json(session, candidate_id, now).text)


# --- writes (run in the writer) ---------------------------------------------------------------------


def start(session: Session, candidate_id: int, now: datetime) -> Started:
    """Start the current session's attempt (idempotent). Refused before the session opens."""
    attempt = seating.current(_sittings(session, candidate_id, lock=True), now)
    if attempt is None:
        raise Conflict("您已完成全部考试", code="no_attempt")
    if attempt.started_at is None:
        if now < attempt.starts_at:
            raise Conflict("考试尚未开始，请等待开考", code="session_not_open")
        if attempt.requires_admission and attempt.admitted_at is None:
            raise Conflict("请等待监考员核验身份、允许入场后再开始考试", code="not_admitted")
        session.connection().execute(queries.START_ATTEMPT, {"attempt_id": attempt.id, "now": now})
    return {"attempt_id": attempt.id, "part": attempt.part}


def save_response(
    session: Session, candidate_id: int, question_id: str, answer: object, seq: object, now: datetime
) -> SavedAnswer:
    """Save one answer if its sequence number is newer than the stored one; otherwise change nothing.

    The hottest path of an exam (every answer of every candidate): prepared Core statements, no ORM objects."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq <= MAX_SEQ:
        raise InvalidInput("seq 必须是正整数", code="invalid_seq")
    db = session.connection()
    rows = db.execute(queries.ATTEMPTS_TO_SAVE_LOCKED, {"candidate_id": candidate_id}).all()
    found = next(
        ((row, entry[0]) for row in rows if (entry := paper(session, row.form_id).questions.get(question_id))),
        None,
    )
    if found is None:
        raise NotFound("没有这道题", code="unknown_question")
    attempt, question = found
    if attempt.started_at is None:
        raise Conflict("考试尚未开始", code="attempt_not_started")
    if attempt.submitted_at is not None:
        raise Conflict("试卷已提交，不能再修改答案", code="attempt_closed")
    pauses = db.execute(queries.PAUSES, {"attempt_id": attempt.id}).all()
    clock = _countdown(attempt.started_at, attempt.duration_seconds, attempt.extension_seconds, pauses)
    if clock.is_paused(now):
        raise Conflict("考试已暂停，请等待监考员恢复", code="attempt_paused")
    window = clock.save_window(now)
    if window == "closed":
        raise Conflict("考试时间已到，答案未能保存", code="deadline_passed")
    chosen = list(question_type(question.type).normalise(question, answer))
    stored = db.execute(queries.STORED_RESPONSE, {"attempt_id": attempt.id, "question_id": question_id}).first()
    values = {"answer": chosen, "seq": seq, "saved_at": now, "late": window == "late"}
    applied = stored is None or stored.seq < seq  # else a duplicate or an older save (a retry, a second tab)
    if stored is None:
        db.execute(queries.INSERT_RESPONSE, {"attempt_id": attempt.id, "question_id": question_id, **values})
    elif applied:
        db.execute(queries.UPDATE_RESPONSE, {"response_id": stored.id, **values})
    kept_seq, kept_at = (stored.seq, stored.saved_at) if stored is not None and not applied else (seq, now)
    return {
        "question_id": question_id,
        "seq": kept_seq,
        "saved_at": kept_at.isoformat(),
        "remaining_seconds": clock.remaining_seconds(now),
        "stale": not applied,
    }


def submit(session: Session, candidate_id: int, now: datetime) -> Submission:
    """The candidate hands in (交卷). Repeating it returns the same receipt."""
    sitting = latest_started(_sittings(session, candidate_id, lock=True))
    if sitting is None:
        raise Conflict("考试尚未开始", code="attempt_not_started")
    if sitting.submitted_at is not None:
        score = session.connection().execute(queries.ATTEMPT_SCORE, {"attempt_id": sitting.id}).scalar_one()
        return _submission(sitting.id, sitting.receipt, sitting.submitted_at, sitting.submit_reason, score)
    receipt, score = _close(session, sitting.id, sitting.form_id, now, SubmitReason.CANDIDATE)
    return _submission(sitting.id, receipt, now, SubmitReason.CANDIDATE, score)


def submission_view(attempt: models.Attempt) -> Submission:
    assert attempt.submitted_at is not None and attempt.score is not None
    return _submission(attempt.id, attempt.receipt, attempt.submitted_at, attempt.submit_reason, attempt.score)


def _submission(
    attempt_id: int, receipt: str | None, at: datetime, reason: str | None, score: dict[str, Any]
) -> Submission:
    return {
        "attempt_id": attempt_id,
        "state": AttemptState.SUBMITTED,
        "receipt": receipt,
        "submitted_at": at.isoformat(),
        "submit_reason": reason,
        "answered": score["answered"],
        "questions": len(score["points"]),
    }


def close_attempt(session: Session, attempt: models.Attempt, now: datetime, reason: SubmitReason) -> None:
    """Score the saved answers and close the attempt (a loaded attempt: the proctors' actions)."""
    attempt.receipt, attempt.score = _scored(session, attempt.id, attempt.form_id)
    attempt.submitted_at = now
    attempt.submit_reason = reason


def _scored(session: Session, attempt_id: int, form_id: int) -> tuple[str, dict]:
    """The receipt and the score of the attempt's saved answers."""
    p = paper(session, form_id)
    saved = session.connection().execute(queries.ATTEMPT_ANSWERS, {"attempt_id": attempt_id})
    answers = {r.question_id: tuple(r.answer) for r in saved}
    bp = p.form.blueprint
    score = score_attempt(
        p.questions.values(),
        answers,
        multiple_rule=bp.multiple_rule,
        partial_points=bp.partial_points,
        pass_mark=bp.pass_mark,
    )
    return receipt_code(attempt_id, answers), {**score.as_dict(), "answered": sum(1 for a in answers.values() if a)}


def _close(session: Session, attempt_id: int, form_id: int, now: datetime, reason: SubmitReason) -> tuple[str, dict]:
    receipt, score = _scored(session, attempt_id, form_id)
    values = {"attempt_id": attempt_id, "now": now, "reason": str(reason), "receipt": receipt, "score": score}
    session.connection().execute(queries.CLOSE_ATTEMPT, values)
    return receipt, score


def overdue(session: Session, now: datetime) -> list[int]:
    """Attempts whose deadline could have passed: read every second outside the writer;
    :func:`expire_overdue` checks each exactly, pauses included."""
    statement = queries.OVERDUE[session.get_bind().dialect.name]
    return list(session.connection().execute(statement, {"now": now}).scalars())


def expire_overdue(session: Session, now: datetime, attempt_ids: list[int] | None = None) -> Outcome:
    """Submit, with the answers saved before the deadline, every attempt whose time (and grace) ran
    out: of ``attempt_ids`` (from :func:`overdue`), or of all attempts. Runs in the writer.
    Its result's ``closed``: the attempts it submitted."""
    ids = overdue(session, now) if attempt_ids is None else list(attempt_ids)
    if not ids:
        return Outcome({"closed": []})
    db = session.connection()
    pauses: dict[int, list[Row]] = {}
    for p in db.execute(queries.PAUSES_OF_ATTEMPTS, {"ids": ids}):
        pauses.setdefault(p.attempt_id, []).append(p)
    closed = []
    for a in db.execute(queries.DUE_ATTEMPTS_LOCKED, {"ids": ids}).all():
        if a.submitted_at is not None or a.started_at is None:
            continue
        if _countdown(a.started_at, a.duration_seconds, a.extension_seconds, pauses.get(a.id, ())).overdue(now):
            _close(session, a.id, a.form_id, now, SubmitReason.DEADLINE)
            closed.append(a.id)
    seats = db.execute(queries.SEATS_OF_ATTEMPTS, {"ids": closed}).all() if closed else []
    events = tuple(AttemptClosed(room_id, candidate_id, SubmitReason.DEADLINE) for candidate_id, room_id in seats)
    return Outcome({"closed": closed}, events)
