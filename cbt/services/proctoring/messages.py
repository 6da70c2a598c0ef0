"""Messages to one candidate, a room or every room of a batch (考务广播), and the candidates' receipts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbt.core import seating
from cbt.core.errors import CbtError, Forbidden, InvalidInput, NotFound
from cbt.core.events import Event, MessageSent, Outcome
from cbt.core.text import N_, say
from cbt.db import models, queries
from cbt.services import audit
from cbt.services.proctoring.common import (
    _candidates,
    _log,
    _text,
    _unfinished,
    logged,
    room_sessions,
)
from cbt.services.staff import StaffInfo, check_room

# Short names for the statements built once at import (the hot paths below).


def message(
    session: Session, staff: StaffInfo, room_id: int, candidate_id: int | None, text: object, now: datetime
) -> Outcome:
    text = _text(text, N_("消息内容"))
    check_room(session, staff, room_id, act=True)
    target = _candidates(session, room_id, candidate_id)[0] if candidate_id is not None else None
    row = models.Message(room_id=room_id, candidate_id=candidate_id, text=text, sent_at=now, sent_by=staff.actor)
    session.add(row)
    session.flush()
    events: list[Event] = [MessageSent(room_id, row.id, text, now, candidate_id, broadcast=target is None)]
    said = say(N_("广播：%(text)s") if target is None else N_("消息：%(text)s"), text=text)
    _log(session, events, room_id, "message", said, now, staff, target)
    subject = f"room:{room_id}" if target is None else f"candidate:{target.id}"
    detail = {"message_id": row.id, "text": text}
    audit.record(session, at=now, actor=staff.actor, action="room.message", subject=subject, detail=detail)
    return Outcome({"message_id": row.id}, tuple(events))


def message_all(session: Session, staff: StaffInfo, batch_id: int, text: object, now: datetime) -> Outcome:
    """考务广播: the exam administrator's message to every candidate of a batch, one per room (each
    room's record shows it, each candidate acknowledges it as a proctor's broadcast)."""
    if staff.role != "admin":
        raise Forbidden("只有考务管理员可以向全部考场广播", code="admins_only")
    text = _text(text, N_("消息内容"))
    rooms = session.scalars(
        select(models.Room).where(models.Room.batch_id == batch_id).order_by(models.Room.code)
    ).all()
    if not rooms:
        raise NotFound("批次不存在或没有考场", code="batch_not_found")
    rows = [models.Message(room_id=r.id, candidate_id=None, text=text, sent_at=now, sent_by=staff.actor) for r in rooms]
    session.add_all(rows)
    session.flush()
    events: list[Event] = []
    sessions = room_sessions(session, rooms[0])  # every room's record: the session it runs (two queries in all)
    unfinished = _unfinished(session, [r.id for r in rooms])
    for row in rows:
        events.append(MessageSent(row.room_id, row.id, text, now, broadcast=True))
        running = seating.active_session(sessions, unfinished.get(row.room_id, set()), now).id if sessions else None
        _log(
            session, events, row.room_id, "message", say(N_("考务广播：%(text)s"), text=text), now, staff, None, running
        )
    detail = {"rooms": len(rows), "text": text}
    audit.record(session, at=now, actor=staff.actor, action="batch.message", subject=f"batch:{batch_id}", detail=detail)
    return Outcome(events=tuple(events))


def is_id(value: object) -> bool:
    """A row id: an integer a database column holds (a page may send anything)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def acknowledge_all(session: Session, receipts: Sequence[tuple[int, object, datetime]]) -> list[Outcome | CbtError]:
    """Candidates confirm they read a message (我已知晓, from their sockets), many at once: a broadcast
    brings every candidate's receipt within seconds. One outcome per (candidate id, message id, when),
    in order: its Outcome, or the error of a receipt refused. A receipt changes no tile (it is an
    event of the room); twice is once."""
    message_ids = {m for _, m, _ in receipts if is_id(m)}
    db = session.connection()
    messages = {r.id: r for r in db.execute(queries.MESSAGES_BY_ID, {"ids": list(message_ids)})} if message_ids else {}
    candidate_ids = list({c for c, _, _ in receipts})
    who = {r.id: r for r in db.execute(queries.CANDIDATES_BY_ID, {"ids": candidate_ids})}
    done = (
        {
            (r.message_id, r.candidate_id)
            for r in db.execute(queries.RECEIPTS_DONE, {"message_ids": list(messages), "candidate_ids": candidate_ids})
        }
        if messages
        else set()
    )
    outcomes: list[Outcome | CbtError] = []
    rows = []
    for candidate_id, message_id, now in receipts:
        if not is_id(message_id):
            outcomes.append(InvalidInput("消息编号无效", code="bad_message_id"))
            continue
        m, c = messages.get(message_id), who.get(candidate_id)
        if m is None or c is None or m.room_id != c.room_id or m.candidate_id not in (None, candidate_id):
            outcomes.append(NotFound("消息不存在", code="message_not_found"))
            continue
        receipt: tuple[Event, ...] = ()
        if (message_id, candidate_id) not in done:  # twice is once
            done.add((message_id, candidate_id))
            rows.append({"message_id": message_id, "candidate_id": candidate_id, "acked_at": now})
            receipt = (logged("ack", say(N_("已确认消息：%(text)s"), text=m.text[:20]), now, c.room_id, c),)
        outcomes.append(Outcome(events=receipt))
    if rows:
        db.execute(queries.INSERT_RECEIPTS, rows)
    return outcomes
