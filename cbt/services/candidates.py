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

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from cbt.core.candidates import normalise_id_number
from cbt.core.errors import Unauthorized
from cbt.core.events import Event, Logged, SeatChanged
from cbt.core.signals import SIGNAL_TEXT
from cbt.db import models, queries


@dataclass(frozen=True, slots=True)  # one per open live channel: no instance dict
class LoginInfo:
    login_id: int
    candidate_id: int
    room_id: int
    token: str
    csrf_token: str
    replaced: tuple[int, ...] = ()  # the older logins this one ended (an incident for the proctor)


def login(
    session: Session, ticket: str, id_number: str, *, now: datetime, ip: str | None, user_agent: str | None
) -> tuple[LoginInfo, tuple[Event, ...]]:
    """Check the ticket/ID pair; end any older live login; start a new one. Runs in the writer.
    Returns the login and what it changed (its seat's tile; a second login's incident)."""
    db = session.connection()
    candidate = db.execute(queries.CANDIDATE_BY_TICKET, {"ticket": ticket.strip()}).first()
    given = normalise_id_number(id_number).encode()
    if candidate is None or not hmac.compare_digest(candidate.id_number.encode(), given):
        raise Unauthorized("准考证号或身份证号不正确，请核对后重新输入", code="invalid_credentials")
    previous = db.execute(queries.LIVE_LOGINS_OF_CANDIDATE, {"candidate_id": candidate.id}).all()
    if previous:
        db.execute(queries.REPLACE_LOGINS, {"cid": candidate.id, "at": now})
        session.add(
            models.Incident(
                room_id=candidate.room_id,
                candidate_id=candidate.id,
                session_id=db.execute(queries.SESSION_SITTING_NOW, {"candidate_id": candidate.id}).scalar(),
                kind="second_login",
                detail={"ip": ip, "user_agent": (user_agent or "")[:200], "previous_ip": previous[-1].ip},
                at=now,
            )
        )
    token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    login_id = db.execute(
        queries.NEW_LOGIN,
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
    return LoginInfo(login_id, candidate.id, candidate.room_id, token, csrf_token, replaced), events


def authenticate(session: Session, token: str | None) -> LoginInfo:
    """The live login for a session token, or Unauthorized saying why (every request asks: one query)."""
    if not token:
        raise Unauthorized("请先登录", code="not_logged_in")
    return _live(session.connection().execute(queries.LOGIN_BY_TOKEN, {"token": token}).first())


def authenticate_id(session: Session, login_id: object) -> LoginInfo:
    """The live login with this id (for a socket whose signed token names it), or Unauthorized saying why."""
    entry = None
    if isinstance(login_id, int) and not isinstance(login_id, bool):
        entry = session.connection().execute(queries.LOGIN_BY_ID, {"login_id": login_id}).first()
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
        live |= set(
            session.scalars(
                select(models.CandidateLogin.id).where(
                    models.CandidateLogin.id.in_(ids[i : i + 500]), models.CandidateLogin.ended_at.is_(None)
                )
            )
        )
    return live


def logout(session: Session, token: str, *, now: datetime) -> None:
    session.execute(
        update(models.CandidateLogin)
        .where(models.CandidateLogin.token == token, models.CandidateLogin.ended_at.is_(None))
        .values(ended_at=now, ended_reason="logout")
    )
