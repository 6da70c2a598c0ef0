"""Exam staff: accounts, sign-in, room assignments and what each role may see and do.

Roles: ``proctor`` (监考员) acts in the rooms assigned to them; ``supervisor`` (督导员) watches any
room, read-only; ``admin`` (考务管理员) watches and acts everywhere.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select, update
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
    login_id: int = 0  # the signed-in session this request or socket belongs to (0: none, e.g. the CLI)

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
        row.active = True
        reset_password(session, username, password, now=now, actor=actor)
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


def open_login(
    session: Session, member: StaffInfo, *, now: datetime, ip: str | None, user_agent: str | None
) -> tuple[StaffInfo, str]:
    """After :func:`sign_in` checked the password: the server-side session (its token for the cookie)."""
    token = secrets.token_urlsafe(32)
    login = models.StaffLogin(
        staff_id=member.id, token=token, created_at=now, ip=ip, user_agent=(user_agent or "")[:300]
    )
    session.add(login)
    session.flush()
    audit.record(
        session,
        at=now,
        actor=member.actor,
        action="staff.sign_in",
        subject=f"staff:{member.username}",
        detail={"ip": ip},
    )
    return replace(member, login_id=login.id), token


_LIVE_LOGIN = (
    select(models.StaffLogin.id, models.Staff)
    .join(models.Staff, models.Staff.id == models.StaffLogin.staff_id)
    .where(models.StaffLogin.ended_at.is_(None), models.Staff.active.is_(True))
)


def authenticate(session: Session, token: object) -> StaffInfo:
    """The staff member of a live signed-in session (by its cookie token), or Unauthorized."""
    row = (
        session.execute(_LIVE_LOGIN.where(models.StaffLogin.token == token)).first() if isinstance(token, str) else None
    )
    if row is None:
        raise Unauthorized("请先登录", code="not_logged_in")
    return replace(_info(row.Staff), login_id=row.id)


def authenticate_login(session: Session, login_id: object) -> StaffInfo:
    """The same, by the session's id (a socket whose signed token names it)."""
    row = None
    if isinstance(login_id, int) and not isinstance(login_id, bool):
        row = session.execute(_LIVE_LOGIN.where(models.StaffLogin.id == login_id)).first()
    if row is None:
        raise Unauthorized("登录已失效，请重新登录", code="not_logged_in")
    return replace(_info(row.Staff), login_id=row.id)


def live_logins(session: Session, login_ids: Iterable[int]) -> set[int]:
    """Which of these sessions are still live (the sockets of the others are to be disconnected)."""
    ids, live = list(login_ids), set()
    for i in range(0, len(ids), 500):
        live |= set(
            session.scalars(
                _LIVE_LOGIN.with_only_columns(models.StaffLogin.id).where(models.StaffLogin.id.in_(ids[i : i + 500]))
            )
        )
    return live


def sign_out(session: Session, member: StaffInfo, *, now: datetime) -> None:
    _end_logins(session, member.id, now, "sign_out", only=member.login_id)
    audit.record(session, at=now, actor=member.actor, action="staff.sign_out", subject=f"staff:{member.username}")


def reset_password(session: Session, username: str, password: str | None, *, now: datetime, actor: str) -> str:
    """A new password (generated when not given); every session of the account ends. Returns it."""
    row = _by_username(session, username)
    password = password or secrets.token_urlsafe(9)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 位", code="weak_password")
    row.password_hash = generate_password_hash(password)  # rare: in the writer, like any admin change
    ended = _end_logins(session, row.id, now, "password_reset")
    audit.record(
        session,
        at=now,
        actor=actor,
        action="staff.reset_password",
        subject=f"staff:{username}",
        detail={"sessions_ended": ended},
    )
    return password


def deactivate(session: Session, username: str, *, now: datetime, actor: str) -> None:
    """The account can no longer sign in, and every session of it ends now."""
    row = _by_username(session, username)
    row.active = False
    ended = _end_logins(session, row.id, now, "deactivated")
    audit.record(
        session,
        at=now,
        actor=actor,
        action="staff.deactivate",
        subject=f"staff:{username}",
        detail={"sessions_ended": ended},
    )


def _by_username(session: Session, username: str) -> models.Staff:
    row = session.scalar(select(models.Staff).where(models.Staff.username == username))
    if row is None:
        raise NotFound(f"没有用户 {username}", code="staff_not_found")
    return row


def _end_logins(session: Session, staff_id: int, now: datetime, reason: str, only: int | None = None) -> int:
    query = update(models.StaffLogin).where(
        models.StaffLogin.staff_id == staff_id, models.StaffLogin.ended_at.is_(None)
    )
    if only is not None:
        query = query.where(models.StaffLogin.id == only)
    return session.execute(query.values(ended_at=now, ended_reason=reason)).rowcount  # type: ignore[attr-defined]


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
