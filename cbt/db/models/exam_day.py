"""Exam day: batches, their sessions and rooms, candidates, their logins, attempts, answers and pauses."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.db.base import Base

if TYPE_CHECKING:
    from cbt.db.models.bank import Pack


class Batch(Base):
    """An exam batch (批次): one occupation's pack, its sessions, rooms and registered candidates."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16))  # certification | practice
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id"))
    show_scores: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(64))

    sessions: Mapped[list[ExamSession]] = relationship(back_populates="batch", order_by="ExamSession.starts_at")
    pack: Mapped[Pack] = relationship()


class ExamSession(Base):
    """One part of a batch (theory or skill) at a scheduled time (场次)."""

    __tablename__ = "exam_sessions"
    __table_args__ = (UniqueConstraint("batch_id", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    part: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column()
    duration_seconds: Mapped[int] = mapped_column(Integer)
    requires_admission: Mapped[bool] = mapped_column(default=True)

    batch: Mapped[Batch] = relationship(back_populates="sessions")


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("batch_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))


class Candidate(Base):
    """A registered candidate (考生) of a batch, with admission ticket (准考证号) and seat."""

    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    ticket: Mapped[str] = mapped_column(String(32), unique=True)
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(50))
    level: Mapped[int] = mapped_column(Integer)
    seat: Mapped[str] = mapped_column(String(16))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_type: Mapped[str | None] = mapped_column(String(32))
    online: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column()

    batch: Mapped[Batch] = relationship()
    room: Mapped[Room] = relationship()


class CandidateLogin(Base):
    """A candidate's login session; at most one is live (ended_at is None) per candidate."""

    __tablename__ = "candidate_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class Attempt(Base):
    """A candidate's sitting of one session: the assembled form, their own order, timing and outcome."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("candidate_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    # Large JSON read only by the candidate's paper view and scoring: loaded when first touched.
    order: Mapped[list] = mapped_column(deferred=True)  # [{"id": item id, "questions": [{"id", "options"}]}]
    duration_seconds: Mapped[int] = mapped_column(Integer)
    extension_seconds: Mapped[int] = mapped_column(Integer, default=0)
    admitted_at: Mapped[datetime | None] = mapped_column()
    admitted_by: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    submit_reason: Mapped[str | None] = mapped_column(String(16))
    close_note: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[dict | None] = mapped_column(deferred=True)

    candidate: Mapped[Candidate] = relationship()
    session: Mapped[ExamSession] = relationship()
    pauses: Mapped[list[Pause]] = relationship(order_by="Pause.start", lazy="selectin")

    # Its session's times, as cbt.core.seating's Sitting names them (the rules take models and rows alike)
    @property
    def starts_at(self) -> datetime:
        return self.session.starts_at

    @property
    def part(self) -> str:
        return self.session.part

    @property
    def session_seconds(self) -> int:
        return self.session.duration_seconds


class Response(Base):
    """The latest saved answer to one question of an attempt; ``seq`` orders the candidate's saves."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    question_id: Mapped[str] = mapped_column(String(80))
    answer: Mapped[list]
    seq: Mapped[int] = mapped_column(Integer)
    saved_at: Mapped[datetime] = mapped_column()
    late: Mapped[bool] = mapped_column(default=False)


class Pause(Base):
    """A stretch of time during which an attempt's clock stood still (暂停)."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    start: Mapped[datetime] = mapped_column()
    end: Mapped[datetime | None] = mapped_column()
    by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
