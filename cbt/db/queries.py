"""The statements of the exam's hot paths, built once at import: SQLAlchemy then reuses their
compiled form and cache keys, and the rows they read are bare tuples, not ORM objects (the start
storm, every answer and the end storm run them thousands of times a second; docs/performance.md).
Named for what they read or write; grouped by the service that runs them."""

from __future__ import annotations

from sqlalchemy import DateTime, bindparam, func, insert, select, update

from cbt.core.timing import GRACE
from cbt.db.models import (
    Attempt,
    Batch,
    Candidate,
    CandidateLogin,
    ExamSession,
    Incident,
    Message,
    MessageAck,
    Pack,
    Pause,
    Response,
    Room,
)

# --- attempts -------------------------------------------------------------------------------

# A candidate's requests (status, start, the paper) read their sittings as bare rows from statements
# built once: the start storm runs them thousands of times a second (docs/performance.md).
SITTINGS = (
    select(
        Attempt.id,
        Attempt.form_id,
        Attempt.duration_seconds,
        Attempt.extension_seconds,
        Attempt.admitted_at,
        Attempt.started_at,
        Attempt.submitted_at,
        Attempt.submit_reason,
        Attempt.receipt,
        ExamSession.part,
        ExamSession.starts_at,
        ExamSession.duration_seconds.label("session_seconds"),
        ExamSession.requires_admission,
    )
    .join(ExamSession, ExamSession.id == Attempt.session_id)
    .where(Attempt.candidate_id == bindparam("candidate_id"))
    .order_by(Attempt.id)
)
# Whoever locks a candidate's attempts locks them in id order: two writers (a save and a submission on
# PostgreSQL) taking them in different orders would deadlock.
SITTINGS_LOCKED = SITTINGS.with_for_update(of=Attempt)
PAUSES = select(Pause.start, Pause.end).where(Pause.attempt_id == bindparam("attempt_id")).order_by(Pause.start)
CANDIDATE_CARD = (
    select(
        Candidate.ticket,
        Candidate.name,
        Candidate.id_number,
        Candidate.level,
        Candidate.seat,
        Room.name.label("room"),
        Batch.name.label("batch"),
        Batch.mode,
        Batch.show_scores,
        Pack.occupation_name,
        Pack.occupation_code,
    )
    .join(Room, Room.id == Candidate.room_id)
    .join(Batch, Batch.id == Candidate.batch_id)
    .join(Pack, Pack.id == Batch.pack_id)
    .where(Candidate.id == bindparam("candidate_id"))
)
ATTEMPT_ORDER = select(Attempt.order).where(Attempt.id == bindparam("attempt_id"))
ATTEMPT_SCORE = select(Attempt.score).where(Attempt.id == bindparam("attempt_id"))
ATTEMPT_ANSWERS = select(Response.question_id, Response.answer, Response.seq).where(
    Response.attempt_id == bindparam("attempt_id")
)
START_ATTEMPT = (
    update(Attempt)
    .where(Attempt.id == bindparam("attempt_id"), Attempt.started_at.is_(None))
    .values(started_at=bindparam("now"))
)
# The save path's statements, built once: SQLAlchemy then reuses their compiled form and cache keys.
_TIMING = (
    Attempt.id,
    Attempt.form_id,
    Attempt.started_at,
    Attempt.duration_seconds,
    Attempt.extension_seconds,
    Attempt.submitted_at,
)
ATTEMPTS_TO_SAVE_LOCKED = (
    select(*_TIMING).where(Attempt.candidate_id == bindparam("candidate_id")).order_by(Attempt.id).with_for_update()
)
STORED_RESPONSE = select(Response.id, Response.seq, Response.saved_at).where(
    Response.attempt_id == bindparam("attempt_id"), Response.question_id == bindparam("question_id")
)
INSERT_RESPONSE = insert(Response)
UPDATE_RESPONSE = update(Response).where(Response.id == bindparam("response_id"))
# Handing in and the deadline, thousands at the end of a session, on statements built once (the end
# storm loaded each attempt as an ORM object, its pauses with a query of their own, and flushed it).
CLOSE_ATTEMPT = (
    update(Attempt)
    .where(Attempt.id == bindparam("attempt_id"))
    .values(
        submitted_at=bindparam("now"),
        submit_reason=bindparam("reason"),
        receipt=bindparam("receipt"),
        score=bindparam("score"),
    )
)
DUE_ATTEMPTS_LOCKED = (
    select(*_TIMING)
    .where(Attempt.id.in_(bindparam("ids", expanding=True)))
    .order_by(Attempt.id)  # the lock order of every writer
    .with_for_update()
)
SEATS_OF_ATTEMPTS = (
    select(Candidate.id, Candidate.room_id)
    .join(Attempt, Attempt.candidate_id == Candidate.id)
    .where(Attempt.id.in_(bindparam("ids", expanding=True)))
)
PAUSES_OF_ATTEMPTS = select(Pause.attempt_id, Pause.start, Pause.end).where(
    Pause.attempt_id.in_(bindparam("ids", expanding=True))
)
# Started, not handed in, and past duration + extension + grace (pauses only ever move a deadline
# later): computed by the database, as a sweep every second over thousands of rows in Python held
# every connection up (68 ms a second at 2 000 candidates; docs/performance.md).
_PAST = Attempt.duration_seconds + Attempt.extension_seconds + int(GRACE.total_seconds())
_OPEN = (Attempt.started_at.is_not(None), Attempt.submitted_at.is_(None))
_NOW = bindparam("now", type_=DateTime)
OVERDUE = {
    "sqlite": select(Attempt.id).where(
        *_OPEN, func.julianday(Attempt.started_at) + _PAST / 86400.0 < func.julianday(_NOW)
    ),
    "postgresql": select(Attempt.id).where(
        *_OPEN, Attempt.started_at + func.make_interval(0, 0, 0, 0, 0, 0, _PAST) < _NOW
    ),
}

# --- candidates -----------------------------------------------------------------------------

# Built once: every candidate of a start storm runs them (docs/performance.md).
CANDIDATE_BY_TICKET = select(Candidate.id, Candidate.id_number, Candidate.room_id).where(
    Candidate.ticket == bindparam("ticket")
)
LIVE_LOGINS_OF_CANDIDATE = (
    select(CandidateLogin.id, CandidateLogin.ip)
    .where(CandidateLogin.candidate_id == bindparam("candidate_id"), CandidateLogin.ended_at.is_(None))
    .order_by(CandidateLogin.id)
)
REPLACE_LOGINS = (
    update(CandidateLogin)
    .where(CandidateLogin.candidate_id == bindparam("cid"), CandidateLogin.ended_at.is_(None))
    .values(ended_at=bindparam("at"), ended_reason="replaced")
)
NEW_LOGIN = insert(CandidateLogin).returning(CandidateLogin.id)
# The session a candidate is sitting (the first not handed in; else the last): its record gets the event.
SESSION_SITTING_NOW = (
    select(Attempt.session_id)
    .join(ExamSession, ExamSession.id == Attempt.session_id)
    .where(Attempt.candidate_id == bindparam("candidate_id"))
    .order_by(Attempt.submitted_at.is_not(None), ExamSession.starts_at, Attempt.id)
    .limit(1)
)
_LOGIN = select(
    CandidateLogin.id,
    CandidateLogin.candidate_id,
    CandidateLogin.token,
    CandidateLogin.csrf_token,
    CandidateLogin.ended_at,
    CandidateLogin.ended_reason,
    Candidate.room_id,
).join(Candidate, Candidate.id == CandidateLogin.candidate_id)
LOGIN_BY_TOKEN = _LOGIN.where(CandidateLogin.token == bindparam("token"))
LOGIN_BY_ID = _LOGIN.where(CandidateLogin.id == bindparam("login_id"))

# --- proctoring.messages --------------------------------------------------------------------

# Built once: a broadcast brings every candidate's receipt within seconds, taken many to a job.
MESSAGES_BY_ID = select(Message.id, Message.room_id, Message.candidate_id, Message.text).where(
    Message.id.in_(bindparam("ids", expanding=True))
)
CANDIDATES_BY_ID = select(Candidate.id, Candidate.room_id, Candidate.seat, Candidate.name).where(
    Candidate.id.in_(bindparam("ids", expanding=True))
)
RECEIPTS_DONE = select(MessageAck.message_id, MessageAck.candidate_id).where(
    MessageAck.message_id.in_(bindparam("message_ids", expanding=True)),
    MessageAck.candidate_id.in_(bindparam("candidate_ids", expanding=True)),
)
INSERT_RECEIPTS = insert(MessageAck)

# --- proctoring.presence --------------------------------------------------------------------

PRESENCE = select(Candidate.id, Candidate.room_id, Candidate.seat, Candidate.name, Candidate.online).where(
    Candidate.id == bindparam("candidate_id")
)
ATTEMPT_IN_PROGRESS = (
    select(Attempt.id, Attempt.session_id)
    .where(
        Attempt.candidate_id == bindparam("candidate_id"),
        Attempt.started_at.is_not(None),
        Attempt.submitted_at.is_(None),
    )
    .limit(1)
)
SET_PRESENCE = (
    update(Candidate)
    .where(Candidate.id == bindparam("candidate_id"))
    .values(online=bindparam("now_online"), last_seen_at=bindparam("seen"))
)
LAST_INCIDENT_OF_KIND = (
    select(Incident.id, Incident.detail)
    .where(
        Incident.candidate_id == bindparam("candidate_id"),
        Incident.kind == bindparam("kind"),
        Incident.at >= bindparam("since"),
    )
    .order_by(Incident.id.desc())
    .limit(1)
)
COUNT_INTO_INCIDENT = (
    update(Incident)
    .where(Incident.id == bindparam("incident_id"))
    .values(detail=bindparam("merged", type_=Incident.__table__.c.detail.type))
)
