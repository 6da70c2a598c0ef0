"""Candidate sign-in: ticket + ID number, one live login per candidate, incidents for a second login.

Choice: a new login ends the older one (the older page is told it was replaced) and the event is
recorded as an incident for the proctor. The newer login wins because a candidate who moves to
another seat after a machine failure must be able to continue; a proctor sees every such switch.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from cbt.core.candidates import normalise_id_number
from cbt.core.errors import Unauthorized
from cbt.core.events import Event, Logged, SeatChanged
from cbt.core.signals import SIGNAL_TEXT
from cbt.db import models


@dataclass(frozen=True, slots=True)  # one per open live channel: no instance dict
class LoginInfo:
    login_id: int
    candidate_id: int
    room_id: int
    token: str
    csrf_token: str
    replaced: tuple[int, ...] = ()  # the older logins this one ended (an incident for the proctor)
    events: tuple[Event, ...] = ()  # what the login changed (its seat's tile; a second login's incident)


# Built once: every candidate of a start storm runs them (docs/performance.md).
_L, _C = models.CandidateLogin, models.Candidate
_BY_TICKET = select(_C.id, _C.id_number, _C.room_id).where(_C.ticket == bindparam("ticket"))
_LIVE = select(_L.id, _L.ip).where(_L.candidate_id == bindparam("candidate_id"), _L.ended_at.is_(None)).order_by(_L.id)
_REPLACE = (
    update(_L)
    .where(_L.candidate_id == bindparam("cid"), _L.ended_at.is_(None))
    .values(ended_at=bindparam("at"), ended_reason="replaced")
)
_NEW = insert(_L).returning(_L.id)
# The session a candidate is sitting (the first not handed in; else the last): its record gets the event.
_SITTING_NOW = (
    select(models.Attempt.session_id)
    .join(models.ExamSession, models.ExamSession.id == models.Attempt.session_id)
    .where(models.Attempt.candidate_id == bindparam("candidate_id"))
    .order_by(models.Attempt.submitted_at.is_not(None), models.ExamSession.starts_at, models.Attempt.id)
    .limit(1)
)
_LOGIN = select(
    _L.id, _L.candidate_id, _L.token, _L.csrf_token, _L.ended_at, _L.ended_reason, _C.room_id
).join(_C, _C.id == _L.candidate_id)  # fmt: skip
_LOGIN_BY_TOKEN = _LOGIN.where(_L.token == bindparam("token"))
_LOGIN_BY_ID = _LOGIN.where(_L.id == bindparam("login_id"))


def login(
    session: Session, ticket: str, id_number: str, *, now: datetime, ip: str | None, user_agent: str | None
) -> LoginInfo:
    """Check the ticket/ID pair; end any older live login; start a new one. Runs in the writer."""
    db = session.connection()
    candidate = db.execute(_BY_TICKET, {"ticket": ticket.strip()}).first()
    given = normalise_id_number(id_number).encode()
    if candidate is None or not hmac.compare_digest(candidate.id_number.encode(), given):
        raise Unauthorized("准考证号或身份证号不正确，请核对后重新输入", code="invalid_credentials")
    previous = db.execute(_LIVE, {"candidate_id": candidate.id}).all()
    if previous:
        db.execute(_REPLACE, {"cid": candidate.id, "at": now})
        session.add(
            models.Incident(
                room_id=candidate.room_id,
                candidate_id=candidate.id,
                session_id=db.execute(_SITTING_NOW, {"candidate_id": candidate.id}).scalar(),
                kind="second_login",
                detail={"ip": ip, "user_agent": (user_agent or "")[:200], "previous_ip": previous[-1].ip},
                at=now,
            )
        )
    token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    login_id = db.execute(
        _NEW,
        {
            "candidate_id": candidate.id,
            "token": token,
            "csrf_token": csrf_token,
            "created_at": now,
            "ip": ip,
            "user_agent": (user_agent or "")[:300],
        },
    ).scalar_one()
    events: tuple[Event, ...] = (SeatChanged(candidate.room_id, candidate.id),)
    if previous:
        events += (Logged(candidate.room_id, "second_login", SIGNAL_TEXT["second_login"], now, candidate.id),)
    replaced = tuple(p.id for p in previous)
    return LoginInfo(login_id, candidate.id, candidate.room_id, token, csrf_token, replaced, events)


def authenticate(session: Session, token: str | None) -> LoginInfo:
    """The live login for a session token, or Unauthorized saying why (every request asks: one query)."""
    if not token:
        raise Unauthorized("请先登录", code="not_logged_in")
    return _live(session.connection().execute(_LOGIN_BY_TOKEN, {"token": token}).first())


def authenticate_id(session: Session, login_id: object) -> LoginInfo:
    """The live login with this id (for a socket whose signed token names it), or Unauthorized saying why."""
    entry = None
    if isinstance(login_id, int) and not isinstance(login_id, bool):
        entry = session.connection().execute(_LOGIN_BY_ID, {"login_id": login_id}).first()
    return _live(entry)


def _live(entry: Row | None) -> LoginInfo:
    if entry is None:
        raise Unauthorized("请先登录", code="not_logged_in")
    if entry.ended_at is not None:
        if entry.ended_reason == "replaced":
            raise Unauthorized(
                "您的账号已在其他位置登录，本机已退出。如非本人操作，请立即举手联系监考员。", code="session_replaced"
            )
        if entry.ended_reason == "moved":
            raise Unauthorized("监考员已为您换机，请到新座位重新登录", code="session_moved")
        raise Unauthorized("您已退出登录，请重新登录", code="not_logged_in")
    return LoginInfo(entry.id, entry.candidate_id, entry.room_id, entry.token, entry.csrf_token)


def live_logins(session: Session, login_ids: Iterable[int]) -> set[int]:
    """Which of these logins are still live (the sockets of the others are to be disconnected)."""
    ids, live = list(login_ids), set()
    for i in range(0, len(ids), 500):
        live |= set(session.scalars(select(_L.id).where(_L.id.in_(ids[i : i + 500]), _L.ended_at.is_(None))))
    return live


def logout(session: Session, token: str, *, now: datetime) -> None:
    session.execute(
        update(models.CandidateLogin)
        .where(models.CandidateLogin.token == token, models.CandidateLogin.ended_at.is_(None))
        .values(ended_at=now, ended_reason="logout")
    )
