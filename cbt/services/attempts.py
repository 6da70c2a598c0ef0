"""Taking the exam: status, start, the candidate's view of the paper, saving answers, submission.

Write use cases (``start``, ``save_response``, ``submit``, ``expire_overdue``) run in the group-commit
writer (:mod:`cbt.db.writer`), each in its own savepoint; the caller is answered after the commit.
Reads (``status``, ``attempt_view``) run on the request's own session. Every use case is given
``now``; the attempt row is locked (FOR UPDATE) so a save and a submission never interleave.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, joinedload

from cbt.core.assembly import Form
from cbt.core.attempt import AttemptState, SubmitReason, attempt_state, receipt_code
from cbt.core.blueprint import PART_NAMES
from cbt.core.errors import Conflict, InvalidInput, NotFound
from cbt.core.items import LEVEL_NAMES, TYPE_NAMES, Item, Question, question_type
from cbt.core.scoring import score_attempt
from cbt.core.timing import GRACE, Clock, Pause
from cbt.db import models
from cbt.services.papers import load_form

MAX_SEQ = 2**31 - 1
PART_ORDER = {"theory": 0, "skill": 1}


# --- papers are immutable snapshots: load each once per process ----------------------------------


@dataclass(frozen=True)
class Paper:
    form: Form
    questions: dict[str, tuple[Question, int]]  # question id -> (question, points)
    items: dict[str, Item]


_papers: dict[int, Paper] = {}
_papers_lock = threading.Lock()


def paper(session: Session, form_id: int) -> Paper:
    found = _papers.get(form_id)
    if found is None:
        form = load_form(session, form_id)
        questions = {q.id: (q, e.points) for e in form.entries for q in e.item.questions}
        found = Paper(form, questions, {e.item.id: e.item for e in form.entries})
        with _papers_lock:
            _papers[form_id] = found
    return found


# --- helpers ----------------------------------------------------------------------------------------


def clock_of(attempt: models.Attempt) -> Clock | None:
    if attempt.started_at is None:
        return None
    return _clock(attempt.started_at, attempt.duration_seconds, attempt.extension_seconds, attempt.pauses)


def _clock(started_at: datetime, duration_seconds: int, extension_seconds: int, pauses: Iterable) -> Clock:
    """An attempt's clock from its stored columns and pauses (model objects or bare rows)."""
    return Clock(
        started_at,
        timedelta(seconds=duration_seconds),
        timedelta(seconds=extension_seconds),
        tuple(Pause(p.start, p.end) for p in pauses),
    )


def state_of(attempt: models.Attempt, now: datetime) -> AttemptState:
    return attempt_state(clock_of(attempt), attempt.submitted_at, now)


def session_over(exam_session: models.ExamSession, now: datetime) -> bool:
    return now > exam_session.starts_at + timedelta(seconds=exam_session.duration_seconds)


def _attempts(session: Session, candidate_id: int, *, lock: bool = False) -> list[models.Attempt]:
    query = (
        select(models.Attempt)
        .where(models.Attempt.candidate_id == candidate_id)
        .options(joinedload(models.Attempt.session))
    )
    if lock:
        query = query.with_for_update(of=models.Attempt)
    rows = list(session.scalars(query).unique())
    return sorted(rows, key=lambda a: (a.session.starts_at, PART_ORDER.get(a.session.part, 9)))


def _current(attempts: list[models.Attempt], now: datetime) -> models.Attempt | None:
    """The attempt the candidate works on now: the first not submitted and not missed."""
    for attempt in attempts:
        if attempt.submitted_at is not None:
            continue
        if attempt.started_at is None and session_over(attempt.session, now):
            continue  # missed (缺考)
        return attempt
    return None


def _latest_started(attempts: list[models.Attempt]) -> models.Attempt | None:
    """The attempt in progress, else the last one started (``attempts`` is in session order)."""
    started = [a for a in attempts if a.started_at is not None]
    in_progress = [a for a in started if a.submitted_at is None]
    chosen = in_progress or started
    return chosen[-1] if chosen else None


def _answers(session: Session, attempt_id: int) -> dict[str, models.Response]:
    rows = session.scalars(select(models.Response).where(models.Response.attempt_id == attempt_id))
    return {r.question_id: r for r in rows}


# --- reads ------------------------------------------------------------------------------------------


def _candidate_and_batch(session: Session, candidate_id: int) -> tuple[models.Candidate, models.Batch]:
    candidate = session.get(models.Candidate, candidate_id, options=[joinedload(models.Candidate.room)])
    if candidate is None:
        raise NotFound("考生不存在", code="candidate_not_found")
    batch = session.get(models.Batch, candidate.batch_id, options=[joinedload(models.Batch.pack)])
    assert batch is not None
    return candidate, batch


def candidate_info(session: Session, candidate_id: int) -> dict[str, object]:
    """Who the candidate is, as the login answer shows it."""
    return candidate_view(*_candidate_and_batch(session, candidate_id))


def status(session: Session, candidate_id: int, now: datetime) -> dict[str, object]:
    """What the identity page shows: who, where, which sessions, when they open."""
    candidate, batch = _candidate_and_batch(session, candidate_id)
    attempts = _attempts(session, candidate_id)
    current = _current(attempts, now)
    sessions = []
    for a in attempts:
        state = state_of(a, now)
        opens_in = max(0.0, (a.session.starts_at - now).total_seconds())
        sessions.append(
            {
                "part": a.session.part,
                "part_name": PART_NAMES[a.session.part],
                "starts_at": a.session.starts_at.isoformat(),
                "opens_in_seconds": round(opens_in, 3),
                "duration_minutes": round(a.duration_seconds / 60, 2),
                "state": "missed" if state is AttemptState.NOT_STARTED and session_over(a.session, now) else state,
                "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
                "receipt": a.receipt,
                "score": _visible_score(batch, a),
            }
        )
    return {
        "candidate": candidate_view(candidate, batch),
        "sessions": sessions,
        "current": current.session.part if current else None,
        "server_time": now.isoformat(),
    }


def candidate_view(candidate: models.Candidate, batch: models.Batch) -> dict[str, object]:
    return {
        "ticket": candidate.ticket,
        "name": candidate.name,
        "id_number": candidate.id_number[:6] + "********" + candidate.id_number[-4:],
        "level": candidate.level,
        "level_name": LEVEL_NAMES[candidate.level],
        "occupation": f"{batch.pack.occupation_name}（{batch.pack.occupation_code}）",
        "room": candidate.room.name,
        "seat": candidate.seat,
        "batch": batch.name,
        "mode": batch.mode,
    }


def _visible_score(batch: models.Batch, attempt: models.Attempt) -> dict[str, object] | None:
    if not batch.show_scores or attempt.score is None:
        return None
    return {"total": attempt.score["total"], "passed": attempt.score["passed"]}


def attempt_view(session: Session, candidate_id: int, now: datetime) -> dict[str, object]:
    """The candidate's paper in their own order, with their saved answers. Never any key."""
    attempts = _attempts(session, candidate_id)
    current = _current(attempts, now)
    attempt = current if current is not None and current.started_at is not None else _latest_started(attempts)
    if attempt is None:
        raise Conflict("考试尚未开始，请先点击“开始考试”", code="attempt_not_started")
    p = paper(session, attempt.form_id)
    clock = clock_of(attempt)
    assert clock is not None
    state = state_of(attempt, now)
    saved = _answers(session, attempt.id)
    return {
        "attempt_id": attempt.id,
        "part": attempt.session.part,
        "part_name": PART_NAMES[attempt.session.part],
        "state": state,
        "remaining_seconds": 0 if state is AttemptState.SUBMITTED else clock.remaining_seconds(now),
        "overdue": state is not AttemptState.SUBMITTED and clock.overdue(now),
        "submitted_at": attempt.submitted_at.isoformat() if attempt.submitted_at else None,
        "submit_reason": attempt.submit_reason,
        "receipt": attempt.receipt,
        "items": [_item_view(p, entry) for entry in attempt.order],
        "responses": {q: {"answer": r.answer, "seq": r.seq} for q, r in saved.items()},
    }


def _item_view(p: Paper, entry: dict) -> dict[str, object]:
    item = p.items[entry["id"]]
    questions = []
    for delivered in entry["questions"]:
        question, points = p.questions[delivered["id"]]
        texts = {o.id: o.text for o in question.options}
        questions.append(
            {
                "id": question.id,
                "type": question.type,
                "type_name": TYPE_NAMES[question.type],
                "stem": question.stem,
                "points": points,
                "options": [{"id": o, "text": texts[o]} for o in delivered["options"]],
            }
        )
    if item.is_case:
        return {
            "id": item.id,
            "type": "case",
            "type_name": TYPE_NAMES["case"],
            "stem": item.stem,
            "points": sum(q["points"] for q in questions),  # type: ignore[misc]
            "questions": questions,
        }
    return questions[0]


# --- writes (run in the writer) ---------------------------------------------------------------------


def start(session: Session, candidate_id: int, now: datetime) -> dict[str, object]:
    """Start the current session's attempt (idempotent). Refused before the session opens."""
    attempts = _attempts(session, candidate_id, lock=True)
    attempt = _current(attempts, now)
    if attempt is None:
        raise Conflict("您已完成全部考试", code="no_attempt")
    if attempt.started_at is None:
        if now < attempt.session.starts_at:
            raise Conflict("考试尚未开始，请等待开考", code="session_not_open")
        if attempt.session.requires_admission and attempt.admitted_at is None:
            raise Conflict("请等待监考员核验身份、允许入场后再开始考试", code="not_admitted")
        attempt.started_at = now
    return {"attempt_id": attempt.id, "part": attempt.session.part}


# The save path's statements, built once: SQLAlchemy then reuses their compiled form and cache keys.
_A, _R, _P = models.Attempt, models.Response, models.Pause
_SAVE_ATTEMPTS = (
    select(_A.id, _A.form_id, _A.started_at, _A.duration_seconds, _A.extension_seconds, _A.submitted_at)
    .where(_A.candidate_id == bindparam("candidate_id"))
    .with_for_update()
)
_SAVE_PAUSES = select(_P.start, _P.end).where(_P.attempt_id == bindparam("attempt_id")).order_by(_P.start)
_SAVE_STORED = select(_R.id, _R.seq, _R.saved_at).where(
    _R.attempt_id == bindparam("attempt_id"), _R.question_id == bindparam("question_id")
)
_SAVE_INSERT = insert(_R)
_SAVE_UPDATE = update(_R).where(_R.id == bindparam("response_id"))


def save_response(
    session: Session, candidate_id: int, question_id: str, answer: object, seq: object, now: datetime
) -> dict[str, object]:
    """Save one answer if its sequence number is newer than the stored one; otherwise change nothing.

    The hottest path of an exam (every answer of every candidate): prepared Core statements, no ORM objects."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq <= MAX_SEQ:
        raise InvalidInput("seq 必须是正整数", code="invalid_seq")
    db = session.connection()
    rows = db.execute(_SAVE_ATTEMPTS, {"candidate_id": candidate_id}).all()
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
    pauses = db.execute(_SAVE_PAUSES, {"attempt_id": attempt.id}).all()
    clock = _clock(attempt.started_at, attempt.duration_seconds, attempt.extension_seconds, pauses)
    if clock.is_paused(now):
        raise Conflict("考试已暂停，请等待监考员恢复", code="attempt_paused")
    window = clock.save_window(now)
    if window == "closed":
        raise Conflict("考试时间已到，答案未能保存", code="deadline_passed")
    chosen = list(question_type(question.type).normalise(question, answer))
    stored = db.execute(_SAVE_STORED, {"attempt_id": attempt.id, "question_id": question_id}).first()
    values = {"answer": chosen, "seq": seq, "saved_at": now, "late": window == "late"}
    applied = stored is None or stored.seq < seq  # else a duplicate or an older save (a retry, a second tab)
    if stored is None:
        db.execute(_SAVE_INSERT, {"attempt_id": attempt.id, "question_id": question_id, **values})
    elif applied:
        db.execute(_SAVE_UPDATE, {"response_id": stored.id, **values})
    kept_seq, kept_at = (stored.seq, stored.saved_at) if stored is not None and not applied else (seq, now)
    return {
        "question_id": question_id,
        "seq": kept_seq,
        "saved_at": kept_at.isoformat(),
        "remaining_seconds": clock.remaining_seconds(now),
        "stale": not applied,
    }


def submit(session: Session, candidate_id: int, now: datetime) -> dict[str, object]:
    """The candidate hands in (交卷). Repeating it returns the same receipt."""
    attempt = _latest_started(_attempts(session, candidate_id, lock=True))
    if attempt is None:
        raise Conflict("考试尚未开始", code="attempt_not_started")
    if attempt.submitted_at is None:
        close_attempt(session, attempt, now, SubmitReason.CANDIDATE)
    return submission_view(attempt)


def submission_view(attempt: models.Attempt) -> dict[str, object]:
    assert attempt.submitted_at is not None and attempt.score is not None
    return {
        "attempt_id": attempt.id,
        "state": AttemptState.SUBMITTED,
        "receipt": attempt.receipt,
        "submitted_at": attempt.submitted_at.isoformat(),
        "submit_reason": attempt.submit_reason,
        "answered": attempt.score["answered"],
        "questions": len(attempt.score["points"]),
    }


def close_attempt(session: Session, attempt: models.Attempt, now: datetime, reason: SubmitReason) -> None:
    """Score the saved answers and close the attempt."""
    p = paper(session, attempt.form_id)
    saved = _answers(session, attempt.id)
    answers = {q: tuple(r.answer) for q, r in saved.items()}
    bp = p.form.blueprint
    score = score_attempt(
        p.questions.values(),
        answers,
        multiple_rule=bp.multiple_rule,
        partial_points=bp.partial_points,
        pass_mark=bp.pass_mark,
    )
    attempt.submitted_at = now
    attempt.submit_reason = reason
    attempt.receipt = receipt_code(attempt.id, answers)
    attempt.score = {**score.as_dict(), "answered": sum(1 for a in answers.values() if a)}


def expire_overdue(session: Session, now: datetime) -> list[int]:
    """Submit, with the answers saved before the deadline, every attempt whose time (and grace) ran out.

    Runs every second: a light query of bare columns finds the few attempts whose deadline could have
    passed (pauses only ever move a deadline later); only those are loaded and checked exactly.
    """
    rows = session.execute(
        select(
            models.Attempt.id,
            models.Attempt.started_at,
            models.Attempt.duration_seconds,
            models.Attempt.extension_seconds,
        ).where(models.Attempt.started_at.is_not(None), models.Attempt.submitted_at.is_(None))
    ).all()
    due = [
        attempt_id
        for attempt_id, started_at, duration, extension in rows
        if started_at is not None and started_at + timedelta(seconds=duration + extension) + GRACE < now
    ]
    closed = []
    for attempt_id in due:
        attempt = session.scalar(select(models.Attempt).where(models.Attempt.id == attempt_id).with_for_update())
        clock = clock_of(attempt) if attempt is not None else None
        if attempt is not None and attempt.submitted_at is None and clock is not None and clock.overdue(now):
            close_attempt(session, attempt, now, SubmitReason.DEADLINE)
            closed.append(attempt_id)
    return closed
