"""Exam staff, their signed-in sessions and their rooms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.db.base import Base


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
