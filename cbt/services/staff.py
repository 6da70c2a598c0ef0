"""Exam staff: accounts, sign-in, room assignments and what each role may see and do.

Roles: ``proctor`` (监考员) acts in the rooms assigned to them; ``supervisor`` (督导员) watches any
room, read-only; ``admin`` (考务管理员) watches and acts everywhere.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from cbt.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from cbt.db import models
from cbt.offload import hashing
from cbt.services import audit

ROLES = {"proctor": "监考员", "supervisor": "督导员", "examiner": "考评员", "admin": "考务管理员"}
MIN_PASSWORD = 8


@dataclass(frozen=True)
class StaffInfo:
    id: int
    username: str
    name: str
    role: str

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.username}"


def _info(row: models.Staff) -> StaffInfo:
    return StaffInfo(row.id, row.username, row.name, row.role)


def create_staff(
    session: Session, username: str, name: str, role: str, password: str | None, *, now: datetime, actor: str
) -> tuple[StaffInfo, str]:
    """Create an account; returns it and its password (generated when not given)."""
    if role not in ROLES:
        raise InvalidInput(f"角色 {role!r} 无效，应为 {'、'.join(ROLES)} 之一", code="bad_role")
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("用户名只能包含字母、数字、-、_", code="bad_username")
    password = password or secrets.token_urlsafe(9)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 位", code="weak_password")
    if session.scalar(select(models.Staff.id).where(models.Staff.username == username)):
        raise Conflict(f"用户名 {username} 已存在", code="staff_exists")
    row = models.Staff(
        username=username, name=name, role=role, password_hash=generate_password_hash(password), created_at=now
    )
    session.add(row)
    session.flush()
    audit.record(
        session, at=now, actor=actor, action="staff.create", subject=f"staff:{username}", detail={"role": role}
    )
    return _info(row), password


def demo_account(session: Session, username: str, name: str, role: str, *, now: datetime, actor: str) -> str:
    """Create a demo account, or give an existing one a fresh password. Returns the password."""
    password = secrets.token_urlsafe(9)
    row = session.scalar(select(models.Staff).where(models.Staff.username == username))
    if row is None:
        create_staff(session, username, name, role, password, now=now, actor=actor)
    else:
        row.password_hash, row.active = generate_password_hash(password), True
        audit.record(session, at=now, actor=actor, action="staff.reset_password", subject=f"staff:{username}")
    return password


def assign(session: Session, username: str, room_id: int, *, now: datetime, actor: str) -> None:
    staff = session.scalar(select(models.Staff).where(models.Staff.username == username))
    if staff is None:
        raise NotFound(f"没有用户 {username}", code="staff_not_found")
    if staff.role != "proctor":
        raise InvalidInput("只有监考员需要分配考场", code="not_a_proctor")
    exists = session.scalar(
        select(models.RoomStaff.id).where(models.RoomStaff.room_id == room_id, models.RoomStaff.staff_id == staff.id)
    )
    if not exists:
        session.add(models.RoomStaff(room_id=room_id, staff_id=staff.id))
        audit.record(
            session, at=now, actor=actor, action="staff.assign", subject=f"room:{room_id}", detail={"staff": username}
        )


def sign_in(session: Session, username: str, password: str) -> StaffInfo:
    """The staff member, or Unauthorized. An unknown or disabled account costs the same password
    check as a wrong password, so the answer's time does not tell which usernames exist."""
    row = session.scalar(select(models.Staff).where(models.Staff.username == username))
    stored = row.password_hash if row is not None and row.active else _nobody()
    matches = hashing(check_password_hash, stored, password)
    if row is None or not row.active or not matches:
        raise Unauthorized("用户名或密码不正确", code="invalid_credentials")
    return _info(row)


@functools.cache
def _nobody() -> str:
    """A hash no password matches, made with the same method as every account's."""
    return hashing(generate_password_hash, secrets.token_urlsafe(32))


def get(session: Session, staff_id: int) -> StaffInfo:
    row = session.get(models.Staff, staff_id)
    if row is None or not row.active:
        raise Unauthorized("请先登录", code="not_logged_in")
    return _info(row)


def rooms_for(session: Session, staff: StaffInfo) -> list[models.Room]:
    """The rooms a staff member may open: their own (proctor) or all (supervisor, admin)."""
    query = select(models.Room).order_by(models.Room.batch_id.desc(), models.Room.code)
    if staff.role == "proctor":
        query = query.join(models.RoomStaff).where(models.RoomStaff.staff_id == staff.id)
    elif staff.role not in ("supervisor", "admin"):
        return []
    return list(session.scalars(query))


def check_room(session: Session, staff: StaffInfo, room_id: int, *, act: bool) -> models.Room:
    """The room if this staff member may watch it (and act in it, when ``act``); else Forbidden/NotFound."""
    room = session.get(models.Room, room_id)
    if room is None:
        raise NotFound("考场不存在", code="room_not_found")
    if staff.role == "admin":
        return room
    if staff.role == "supervisor":
        if act:
            raise Forbidden("督导员只能查看，不能操作", code="read_only")
        return room
    if staff.role == "proctor":
        assigned = session.scalar(
            select(models.RoomStaff.id).where(
                models.RoomStaff.room_id == room_id, models.RoomStaff.staff_id == staff.id
            )
        )
        if assigned:
            return room
    raise Forbidden("您不是该考场的监考员", code="not_your_room")
