"""What happens in a room: incidents, messages and their receipts, terminations, the signed room records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cbt.db.base import Base


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
