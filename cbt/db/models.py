"""Typed models of the item bank, blueprints, assembled forms and the audit log.

Item versions are immutable rows: importing changed content adds a version, and an assembled form
points at the exact versions it delivered, so a later pack change never alters a form.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.db.base import Base


class Pack(Base):
    __tablename__ = "packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[str] = mapped_column(String(64))
    occupation_code: Mapped[str] = mapped_column(String(16))
    occupation_name: Mapped[str] = mapped_column(String(100))
    meta: Mapped[dict]
    imported_at: Mapped[datetime] = mapped_column()

    items: Mapped[list[Item]] = relationship(back_populates="pack", order_by="Item.key")
    blueprints: Mapped[list[Blueprint]] = relationship(back_populates="pack")


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("pack_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    retired_at: Mapped[datetime | None] = mapped_column()
    retired_reason: Mapped[str | None] = mapped_column(Text)

    pack: Mapped[Pack] = relationship(back_populates="items")
    versions: Mapped[list[ItemVersion]] = relationship(back_populates="item", order_by="ItemVersion.number")

    @property
    def current(self) -> ItemVersion:
        return self.versions[-1]


class ItemVersion(Base):
    """One published version of an item. Never updated once written."""

    __tablename__ = "item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    area: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[int] = mapped_column(Integer)
    levels: Mapped[list]
    content: Mapped[dict]
    pack_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()

    item: Mapped[Item] = relationship(back_populates="versions")


class Blueprint(Base):
    __tablename__ = "blueprints"
    __table_args__ = (UniqueConstraint("pack_id", "level", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict]
    updated_at: Mapped[datetime] = mapped_column()

    pack: Mapped[Pack] = relationship(back_populates="blueprints")


class Form(Base):
    """An assembled paper (试卷, A/B/C 卷): a snapshot of the blueprint and the item versions it holds."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(8))
    seed: Mapped[str] = mapped_column(String(64))
    blueprint: Mapped[dict]
    summary: Mapped[dict]
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(64))

    entries: Mapped[list[FormItem]] = relationship(back_populates="form", order_by="FormItem.position")


class FormItem(Base):
    __tablename__ = "form_items"
    __table_args__ = (UniqueConstraint("form_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"))
    points: Mapped[int] = mapped_column(Integer)  # per scored question

    form: Mapped[Form] = relationship(back_populates="entries")
    version: Mapped[ItemVersion] = relationship()


class AuditEvent(Base):
    """Append-only, hash-chained record of every state change: who, what, when, before/after, why."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict]
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# --- exam day: batches, sessions, rooms, candidates, attempts -----------------------------------


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


class Incident(Base):
    """Something a proctor should know about (考场记录 evidence): never an automatic punishment.

    ``kind`` is what happened (a page signal such as tab_hidden, second_login, or proctor_record for a
    note written by a proctor); ``category`` is the room record's category (身份核验, 考生违纪, ...).
    """

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_room_session", "room_id", "session_id", "id"),  # a room's record, one session
        Index("ix_incidents_candidate_kind_at", "candidate_id", "kind", "at"),  # coalescing page signals
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("exam_sessions.id"))  # the record it belongs to
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict]
    at: Mapped[datetime] = mapped_column()


class Pause(Base):
    """A stretch of time during which an attempt's clock stood still (暂停)."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    start: Mapped[datetime] = mapped_column()
    end: Mapped[datetime | None] = mapped_column()
    by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class Staff(Base):
    """Exam staff: proctors (监考员), supervisors (督导员), examiners (考评员), administrators (考务管理员)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column()


class StaffLogin(Base):
    """A staff member's signed-in session (the cookie holds its token); it ends at sign-out, at a
    password reset and when the account is deactivated, and every request and socket event asks."""

    __tablename__ = "staff_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class RoomStaff(Base):
    """A proctor assigned to a room, and whether their dashboard is open now (for the staffing rule)."""

    __tablename__ = "room_staff"
    __table_args__ = (UniqueConstraint("room_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    online: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column()

    staff: Mapped[Staff] = relationship()


class Message(Base):
    """A proctor's message to one candidate, or to the whole room when candidate_id is None."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column()
    sent_by: Mapped[str] = mapped_column(String(64))


class MessageAck(Base):
    __tablename__ = "message_acks"
    __table_args__ = (UniqueConstraint("message_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"))
    acked_at: Mapped[datetime] = mapped_column()


class Termination(Base):
    """A request to end an attempt for misconduct (违纪终止); it takes effect when a second proctor confirms."""

    __tablename__ = "terminations"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column()
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None] = mapped_column()


class RoomRecord(Base):
    """The signed room record (考场记录) of one session: read-only once signed."""

    __tablename__ = "room_records"
    __table_args__ = (UniqueConstraint("room_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    signatures: Mapped[list]
    content: Mapped[dict]
    signed_at: Mapped[datetime] = mapped_column()


class Heartbeat(Base):
    """A server process's last write, made by /healthz through the writer: the database takes writes."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column()
