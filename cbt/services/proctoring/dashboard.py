"""What proctors see: the room's tiles, summary, staffing and events of one session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NotRequired, TypedDict

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from cbt.core import seating, signals
from cbt.core.attempt import AttemptState
from cbt.core.seating import TILE_NAMES, TileState
from cbt.core.signals import BADGE_KINDS, SIGNAL_TEXT
from cbt.db import models
from cbt.services.attempts import countdown_of, state_of
from cbt.services.paper_view import paper
from cbt.services.proctoring.common import _unfinished, room_sessions
from cbt.services.staff import StaffInfo, check_room

# --- the dashboard (read) ---------------------------------------------------------------------------


class Tile(TypedDict):
    """One seat on the dashboard, for the session its room shows."""

    candidate_id: int
    seat: str
    name: str
    ticket: str
    level: int
    state: TileState
    state_name: str
    answered: int
    total: int
    remaining_seconds: float | None
    last_seen: str | None
    incidents: int
    admitted: bool


class StaffingLine(TypedDict):
    assigned: list[dict[str, object]]
    present: int
    required: int
    ok: bool


class TileUpdate(TypedDict):
    """The changed tiles of one room (and, when its staff came or went, its staffing line)."""

    tiles: list[Tile]
    session: dict[str, object]
    server_time: str
    staffing: NotRequired[StaffingLine]


class RoomEvent(TypedDict):
    id: int
    kind: str
    text: str
    at: str
    candidate_id: int | None
    seat: str | None
    name: str | None
    by: str
    msg: dict[str, object] | None


def tile_updates(session: Session, dirty: dict[int, set[int]], now: datetime) -> dict[int, TileUpdate]:
    """The changed tiles of many rooms at once, for the coalesced live updates: a fixed number of
    queries however many rooms changed. ``dirty`` maps room ids to the candidates that changed."""
    rooms = session.scalars(select(models.Room).where(models.Room.id.in_(list(dirty)))).all()
    by_batch: dict[int, list[models.ExamSession]] = {}
    batch_ids = {r.batch_id for r in rooms}
    batch_sessions = session.scalars(select(models.ExamSession).where(models.ExamSession.batch_id.in_(batch_ids)))
    for s in seating.in_order(batch_sessions):
        by_batch.setdefault(s.batch_id, []).append(s)
    unfinished = _unfinished(session, dirty)
    active = {
        r.id: seating.active_session(by_batch[r.batch_id], unfinished.get(r.id, set()), now)
        for r in rooms
        if r.batch_id in by_batch
    }
    ids = [c for room_id in active for c in dirty[room_id]]
    candidates = session.scalars(
        select(models.Candidate).where(models.Candidate.id.in_(ids)).order_by(models.Candidate.seat)
    ).all()
    tiles: dict[int, list[Tile]] = {room_id: [] for room_id in active}
    for c, tile in zip(candidates, _tiles(session, candidates, {r: s.id for r, s in active.items()}, now), strict=True):
        tiles[c.room_id].append(tile)
    return {
        room_id: {"tiles": tiles[room_id], "session": {"id": s.id, "part": s.part}, "server_time": now.isoformat()}
        for room_id, s in active.items()
    }


def _tiles(
    session: Session, candidates: Sequence[models.Candidate], session_of_room: dict[int, int], now: datetime
) -> list[Tile]:
    """The tiles of these candidates, each for the session its room shows."""
    ids = [c.id for c in candidates]
    room_of = {c.id: c.room_id for c in candidates}
    attempts = {
        a.candidate_id: a
        for a in session.scalars(
            select(models.Attempt).where(
                models.Attempt.candidate_id.in_(ids), models.Attempt.session_id.in_(set(session_of_room.values()))
            )
        )
        if a.session_id == session_of_room.get(room_of[a.candidate_id])
    }
    live = set(
        session.scalars(
            select(models.CandidateLogin.candidate_id).where(
                models.CandidateLogin.candidate_id.in_(ids), models.CandidateLogin.ended_at.is_(None)
            )
        )
    )
    answered = (
        dict(
            session.execute(
                select(models.Response.attempt_id, func.count())
                .where(
                    models.Response.attempt_id.in_([a.id for a in attempts.values()]),
                    cast(models.Response.answer, String) != "[]",
                )
                .group_by(models.Response.attempt_id)
            ).all()
        )
        if attempts
        else {}
    )
    incidents = _incident_counts(session, ids)
    return [_tile(c, attempts.get(c.id), c.id in live, answered, incidents, now, session) for c in candidates]


def _incident_counts(session: Session, candidate_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(models.Incident.candidate_id, func.count())
        .where(models.Incident.candidate_id.in_(candidate_ids), models.Incident.kind.in_(BADGE_KINDS))
        .group_by(models.Incident.candidate_id)
    )
    return {candidate_id: n for candidate_id, n in rows if candidate_id is not None}


def room_view(
    session: Session,
    staff: StaffInfo,
    room_id: int,
    exam_session_id: int | None,
    now: datetime,
) -> dict:
    """Tiles, summary, staffing and recent events of a room for one session (default: the latest open one)."""
    room = check_room(session, staff, room_id, act=False)
    sessions = room_sessions(session, room)
    current = next((s for s in sessions if s.id == exam_session_id), None)
    if current is None:
        current = seating.active_session(sessions, _unfinished(session, [room_id]).get(room_id, set()), now)
    candidates = session.scalars(
        select(models.Candidate).where(models.Candidate.room_id == room_id).order_by(models.Candidate.seat)
    ).all()
    tiles = _tiles(session, candidates, {room_id: current.id}, now)
    incidents = sum(t["incidents"] for t in tiles)
    view: dict = {"tiles": tiles, "session": {"id": current.id, "part": current.part}, "server_time": now.isoformat()}
    counts: dict[str, int] = {k: 0 for k in TILE_NAMES}
    for t in tiles:
        counts[t["state"]] += 1
    terminations = session.execute(
        select(
            models.Termination.id,
            models.Termination.attempt_id,
            models.Termination.reason,
            models.Termination.requested_by,
        )
        .join(models.Attempt, models.Attempt.id == models.Termination.attempt_id)
        .join(models.Candidate, models.Candidate.id == models.Attempt.candidate_id)
        .where(models.Candidate.room_id == room_id, models.Termination.confirmed_at.is_(None))
    ).all()
    record = session.scalar(
        select(models.RoomRecord).where(
            models.RoomRecord.room_id == room_id, models.RoomRecord.session_id == current.id
        )
    )
    view.update(
        room={"id": room.id, "code": room.code, "name": room.name},
        sessions=[{"id": s.id, "part": s.part, "starts_at": s.starts_at.isoformat()} for s in sessions],
        summary={"total": len(candidates), **counts, "incidents": incidents},
        staffing=staffing_line(session, room_id, len(candidates)),
        pending_terminations=[
            {"id": t.id, "attempt_id": t.attempt_id, "reason": t.reason, "requested_by": t.requested_by}
            for t in terminations
        ],
        record={"signed": record is not None, "signatures": record.signatures if record else []},
    )
    view["events"], view["events_more"] = room_events(session, room_id, current.id)
    return view


def staffing_line(session: Session, room_id: int, candidates: int | None = None) -> StaffingLine:
    """The room's proctors and who of them is watching, against the standard's ratio (1:15, at least 2)."""
    if candidates is None:
        count = select(func.count()).select_from(models.Candidate).where(models.Candidate.room_id == room_id)
        candidates = session.scalar(count) or 0
    assigned = session.scalars(select(models.RoomStaff).where(models.RoomStaff.room_id == room_id)).all()
    required = seating.required_proctors(candidates)
    present = sum(1 for a in assigned if a.online)
    return {
        "assigned": [{"name": a.staff.name, "online": a.online} for a in assigned],
        "present": present,
        "required": required,
        "ok": present >= required,
    }


def _tile(
    c: models.Candidate,
    attempt: models.Attempt | None,
    logged_in: bool,
    answered: dict[int, int],
    incidents: dict[int, int],
    now: datetime,
    session: Session,
) -> Tile:
    total = len(paper(session, attempt.form_id).questions) if attempt else 0
    state = seating.tile_state(
        logged_in=logged_in,
        online=c.online,
        admitted=bool(attempt and attempt.admitted_at),
        started=bool(attempt and attempt.started_at),
        paused=attempt is not None and state_of(attempt, now) is AttemptState.PAUSED,
        submitted=bool(attempt and attempt.submitted_at),
    )
    clock = countdown_of(attempt) if attempt else None
    return {
        "candidate_id": c.id,
        "seat": c.seat,
        "name": c.name,
        "ticket": c.ticket,
        "level": c.level,
        "state": state,
        "state_name": TILE_NAMES[state],
        "answered": answered.get(attempt.id, 0) if attempt else 0,
        "total": total,
        "remaining_seconds": clock.remaining_seconds(now) if clock and state is not TileState.SUBMITTED else None,
        "last_seen": c.last_seen_at.isoformat() if c.last_seen_at else None,
        "incidents": incidents.get(c.id, 0),
        "admitted": bool(attempt and attempt.admitted_at),
    }


EVENTS_PAGE = 100  # the dashboard shows this many of the newest; older ones a page at a time


def room_events(
    session: Session, room_id: int, exam_session_id: int, *, before: int | None = None, limit: int | None = EVENTS_PAGE
) -> tuple[list[RoomEvent], bool]:
    """The room's events in the record of one session, newest first: all of them (``limit=None``),
    or a page older than event ``before``; and whether older ones remain."""
    query = (
        select(models.Incident, models.Candidate)
        .outerjoin(models.Candidate, models.Candidate.id == models.Incident.candidate_id)
        .where(models.Incident.room_id == room_id, models.Incident.session_id == exam_session_id)
        .order_by(models.Incident.id.desc())
    )
    if before is not None:
        query = query.where(models.Incident.id < before)
    if limit is not None:
        query = query.limit(limit + 1)
    rows = session.execute(query).all()
    more = limit is not None and len(rows) > limit
    events: list[RoomEvent] = [
        {
            "id": i.id,
            "kind": i.kind,
            "text": _event_text(i),
            "at": i.at.isoformat(),
            "candidate_id": i.candidate_id,
            "seat": c.seat if c else None,
            "name": c.name if c else None,
            "by": i.recorded_by or "",
            "msg": (i.detail or {}).get("msg") if not i.category else None,
        }
        for i, c in rows[:limit]
    ]
    return events, more


def _event_text(incident: models.Incident) -> str:
    if incident.category:
        return f"[{incident.category}] {incident.text}"
    if incident.text:
        return incident.text
    return SIGNAL_TEXT.get(incident.kind, incident.kind) + signals.summary(incident.detail)
