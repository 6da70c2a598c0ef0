"""Taking the exam: status, start, the candidate's view of the paper, saving answers, submission.

Write use cases (``start``, ``save_response``, ``submit``, ``expire_overdue``) run in the group-commit
writer (:mod:`cbt.db.writer`), each in its own savepoint; the caller is answered after the commit.
Reads (``status``, ``attempt_view``) run on the request's own session. Every use case is given
``now``; the attempt row is locked (FOR UPDATE) so a save and a submission never interleave.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import DateTime, Row, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from cbt.core import seating
from cbt.core.assembly import Form
from cbt.core.attempt import AttemptState, SubmitReason, attempt_state, receipt_code
from cbt.core.blueprint import PART_NAMES
from cbt.core.errors import Conflict, InvalidInput, NotFound
from cbt.core.events import AttemptClosed, Outcome
from cbt.core.items import LEVEL_NAMES, TYPE_NAMES, Item, Question, question_type
from cbt.core.scoring import score_attempt
from cbt.core.seating import latest_started, missed, session_order
from cbt.core.timing import GRACE, Clock, Pause
from cbt.db import models
from cbt.services.papers import load_form

MAX_SEQ = 2**31 - 1


# --- papers are immutable snapshots: load each once per process ----------------------------------


@dataclass(frozen=True)
class Paper:
    form: Form
    questions: dict[str, tuple[Question, int]]  # question id -> (question, points)
    # The candidate's view of it, encoded once: every candidate's paper is these pieces in their own
    # order (the start storm sends thousands at once; encoding each anew was a third of a start).
    question_json: dict[str, tuple[str, dict[str, str]]]  # question id -> (JSON up to its options, option id -> JSON)
    case_json: dict[str, str]  # case item id -> its JSON up to its questions
    # Each question as delivered with its options in one order, filled as candidates start: with four
    # options there are 24 orders, so after the first few hundred starts every question is a lookup.
    delivered_json: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)


_papers: dict[int, Paper] = {}
_papers_lock = threading.Lock()


def paper(session: Session, form_id: int) -> Paper:
    found = _papers.get(form_id)
    if found is None:
        form = load_form(session, form_id)
        questions = {q.id: (q, e.points) for e in form.entries for q in e.item.questions}
        found = Paper(
            form,
            questions,
            {q.id: _question_json(q, points) for q, points in questions.values()},
            {e.item.id: _case_json(e.item, e.total) for e in form.entries if e.item.is_case},
        )
        with _papers_lock:
            _papers[form_id] = found
    return found


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _question_json(q: Question, points: int) -> tuple[str, dict[str, str]]:
    head = _json({"id": q.id, "type": q.type, "type_name": TYPE_NAMES[q.type], "stem": q.stem, "points": points})
    return head[:-1] + ',"options":[', {o.id: _json({"id": o.id, "text": o.text}) for o in q.options}


def _case_json(item: Item, points: int) -> str:
    head = _json({"id": item.id, "type": "case", "type_name": TYPE_NAMES["case"], "stem": item.stem, "points": points})
    return head[:-1] + ',"questions":['


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


# A candidate's requests (status, start, the paper) read their sittings as bare rows from statements
# built once: the start storm runs them thousands of times a second (docs/performance.md).
_A, _R, _P, _S = models.Attempt, models.Response, models.Pause, models.ExamSession
_C, _B, _K, _M = models.Candidate, models.Batch, models.Pack, models.Room
_SITTINGS = (
    select(
        _A.id, _A.form_id, _A.duration_seconds, _A.extension_seconds, _A.admitted_at, _A.started_at,
        _A.submitted_at, _A.submit_reason, _A.receipt, _S.part, _S.starts_at,
        _S.duration_seconds.label("session_seconds"), _S.requires_admission,
    )
    .join(_S, _S.id == _A.session_id)
    .where(_A.candidate_id == bindparam("candidate_id"))
    .order_by(_A.id)
)  # fmt: skip
# Whoever locks a candidate's attempts locks them in id order: two writers (a save and a submission on
# PostgreSQL) taking them in different orders would deadlock.
_SITTINGS_LOCKED = _SITTINGS.with_for_update(of=_A)
_PAUSES = select(_P.start, _P.end).where(_P.attempt_id == bindparam("attempt_id")).order_by(_P.start)
_WHO = (
    select(
        _C.ticket, _C.name, _C.id_number, _C.level, _C.seat, _M.name.label("room"), _B.name.label("batch"),
        _B.mode, _B.show_scores, _K.occupation_name, _K.occupation_code,
    )
    .join(_M, _M.id == _C.room_id)
    .join(_B, _B.id == _C.batch_id)
    .join(_K, _K.id == _B.pack_id)
    .where(_C.id == bindparam("candidate_id"))
)  # fmt: skip
_ORDER = select(_A.order).where(_A.id == bindparam("attempt_id"))
_SCORE = select(_A.score).where(_A.id == bindparam("attempt_id"))
_ANSWERS = select(_R.question_id, _R.answer, _R.seq).where(_R.attempt_id == bindparam("attempt_id"))
_START = (
    update(_A)
    .where(_A.id == bindparam("attempt_id"), _A.started_at.is_(None))
    .values(started_at=bindparam("now"))
)  # fmt: skip


def _sittings(session: Session, candidate_id: int, *, lock: bool = False) -> list[Row]:
    """The candidate's attempts with their sessions' times, in session order (locked: in the writer)."""
    statement = _SITTINGS_LOCKED if lock else _SITTINGS
    rows = session.connection().execute(statement, {"candidate_id": candidate_id}).all()
    return sorted(rows, key=lambda a: session_order(a.starts_at, a.part))


def _sitting_clock(session: Session, sitting: Row) -> Clock | None:
    if sitting.started_at is None:
        return None
    pauses = session.connection().execute(_PAUSES, {"attempt_id": sitting.id}).all()
    return _clock(sitting.started_at, sitting.duration_seconds, sitting.extension_seconds, pauses)


# --- reads ------------------------------------------------------------------------------------------


def _who(session: Session, candidate_id: int) -> Row:
    row = session.connection().execute(_WHO, {"candidate_id": candidate_id}).first()
    if row is None:
        raise NotFound("考生不存在", code="candidate_not_found")
    return row


def candidate_info(session: Session, candidate_id: int) -> dict[str, object]:
    """Who the candidate is, as the login answer shows it."""
    return candidate_view(_who(session, candidate_id))


def status(session: Session, candidate_id: int, now: datetime) -> dict[str, object]:
    """What the identity page shows: who, where, which sessions, when they open."""
    who = _who(session, candidate_id)
    sittings = _sittings(session, candidate_id)
    current = seating.current(sittings, now)
    sessions = []
    for a in sittings:
        state = attempt_state(_sitting_clock(session, a), a.submitted_at, now)
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


def candidate_view(who: Row) -> dict[str, object]:
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
    score = session.connection().execute(_SCORE, {"attempt_id": sitting.id}).scalar()
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
    clock = _sitting_clock(session, attempt)
    assert clock is not None
    state = attempt_state(clock, attempt.submitted_at, now)
    order = db.execute(_ORDER, {"attempt_id": attempt.id}).scalar_one()
    saved = db.execute(_ANSWERS, {"attempt_id": attempt.id}).all()
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
    items = ",".join(_item_json(p, entry) for entry in order)
    return PaperText(_json(head)[:-1] + ',"items":[' + items + "]}", attempt.id, overdue)


def attempt_view(session: Session, candidate_id: int, now: datetime) -> dict[str, Any]:
    """:func:`attempt_json`, read back: what the candidate's page receives."""
    return json.loads(attempt_json(session, candidate_id, now).text)


def _item_json(p: Paper, entry: dict) -> str:
    """One item of the paper: a question with its options in the candidate's order, or a case with
    its questions so."""
    questions = []
    for delivered in entry["questions"]:
        key = (delivered["id"], tuple(delivered["options"]))
        text = p.delivered_json.get(key)
        if text is None:
            head, options = p.question_json[key[0]]
            text = p.delivered_json[key] = head + ",".join([options[o] for o in key[1]]) + "]}"
        questions.append(text)
    case = p.case_json.get(entry["id"])
    return questions[0] if case is None else case + ",".join(questions) + "]}"


# --- writes (run in the writer) ---------------------------------------------------------------------


def start(session: Session, candidate_id: int, now: datetime) -> dict[str, object]:
    """Start the current session's attempt (idempotent). Refused before the session opens."""
    attempt = seating.current(_sittings(session, candidate_id, lock=True), now)
    if attempt is None:
        raise Conflict("您已完成全部考试", code="no_attempt")
    if attempt.started_at is None:
        if now < attempt.starts_at:
            raise Conflict("考试尚未开始，请等待开考", code="session_not_open")
        if attempt.requires_admission and attempt.admitted_at is None:
            raise Conflict("请等待监考员核验身份、允许入场后再开始考试", code="not_admitted")
        session.connection().execute(_START, {"attempt_id": attempt.id, "now": now})
    return {"attempt_id": attempt.id, "part": attempt.part}


# The save path's statements, built once: SQLAlchemy then reuses their compiled form and cache keys.
_TIMING = (_A.id, _A.form_id, _A.started_at, _A.duration_seconds, _A.extension_seconds, _A.submitted_at)
_SAVE_ATTEMPTS = select(*_TIMING).where(_A.candidate_id == bindparam("candidate_id")).order_by(_A.id).with_for_update()
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
    pauses = db.execute(_PAUSES, {"attempt_id": attempt.id}).all()
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
    sitting = latest_started(_sittings(session, candidate_id, lock=True))
    if sitting is None:
        raise Conflict("考试尚未开始", code="attempt_not_started")
    if sitting.submitted_at is not None:
        score = session.connection().execute(_SCORE, {"attempt_id": sitting.id}).scalar_one()
        return _submission(sitting.id, sitting.receipt, sitting.submitted_at, sitting.submit_reason, score)
    receipt, score = _close(session, sitting.id, sitting.form_id, now, SubmitReason.CANDIDATE)
    return _submission(sitting.id, receipt, now, SubmitReason.CANDIDATE, score)


def submission_view(attempt: models.Attempt) -> dict[str, object]:
    assert attempt.submitted_at is not None and attempt.score is not None
    return _submission(attempt.id, attempt.receipt, attempt.submitted_at, attempt.submit_reason, attempt.score)


def _submission(attempt_id: int, receipt: str | None, at: datetime, reason: str | None, score: dict) -> dict:
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
    saved = session.connection().execute(_ANSWERS, {"attempt_id": attempt_id})
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


# Handing in and the deadline, thousands at the end of a session, on statements built once (the end
# storm loaded each attempt as an ORM object, its pauses with a query of their own, and flushed it).
_CLOSE = (
    update(_A)
    .where(_A.id == bindparam("attempt_id"))
    .values(
        submitted_at=bindparam("now"),
        submit_reason=bindparam("reason"),
        receipt=bindparam("receipt"),
        score=bindparam("score"),
    )
)
_DUE_LOCKED = (
    select(*_TIMING)
    .where(_A.id.in_(bindparam("ids", expanding=True)))
    .order_by(_A.id)  # the lock order of every writer
    .with_for_update()
)
_SEATS = select(_C.id, _C.room_id).join(_A, _A.candidate_id == _C.id).where(_A.id.in_(bindparam("ids", expanding=True)))
_DUE_PAUSES = select(_P.attempt_id, _P.start, _P.end).where(_P.attempt_id.in_(bindparam("ids", expanding=True)))


def _close(session: Session, attempt_id: int, form_id: int, now: datetime, reason: SubmitReason) -> tuple[str, dict]:
    receipt, score = _scored(session, attempt_id, form_id)
    values = {"attempt_id": attempt_id, "now": now, "reason": str(reason), "receipt": receipt, "score": score}
    session.connection().execute(_CLOSE, values)
    return receipt, score


# Started, not handed in, and past duration + extension + grace (pauses only ever move a deadline
# later): computed by the database, as a sweep every second over thousands of rows in Python held
# every connection up (68 ms a second at 2 000 candidates; docs/performance.md).
_PAST = _A.duration_seconds + _A.extension_seconds + int(GRACE.total_seconds())
_OPEN = (_A.started_at.is_not(None), _A.submitted_at.is_(None))
_NOW = bindparam("now", type_=DateTime)
_OVERDUE = {
    "sqlite": select(_A.id).where(*_OPEN, func.julianday(_A.started_at) + _PAST / 86400.0 < func.julianday(_NOW)),
    "postgresql": select(_A.id).where(*_OPEN, _A.started_at + func.make_interval(0, 0, 0, 0, 0, 0, _PAST) < _NOW),
}


def overdue(session: Session, now: datetime) -> list[int]:
    """Attempts whose deadline could have passed: read every second outside the writer;
    :func:`expire_overdue` checks each exactly, pauses included."""
    statement = _OVERDUE[session.get_bind().dialect.name]
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
    for p in db.execute(_DUE_PAUSES, {"ids": ids}):
        pauses.setdefault(p.attempt_id, []).append(p)
    closed = []
    for a in db.execute(_DUE_LOCKED, {"ids": ids}).all():
        if a.submitted_at is not None or a.started_at is None:
            continue
        if _clock(a.started_at, a.duration_seconds, a.extension_seconds, pauses.get(a.id, ())).overdue(now):
            _close(session, a.id, a.form_id, now, SubmitReason.DEADLINE)
            closed.append(a.id)
    seats = db.execute(_SEATS, {"ids": closed}).all() if closed else []
    events = tuple(AttemptClosed(room_id, candidate_id, SubmitReason.DEADLINE) for candidate_id, room_id in seats)
    return Outcome({"closed": closed}, events)
