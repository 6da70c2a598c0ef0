"""The one place that decides what the pages hear: committed domain events (cbt.core.events) become
Socket.IO emits, and the dashboard tiles they change are refreshed, coalesced per room and sent at
most every ``COALESCE_SECONDS``."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy.orm import Session, sessionmaker

from cbt.core import events as ev
from cbt.core.attempt import SubmitReason
from cbt.core.text import N_, Said, message_of, say
from cbt.realtime.channels import candidate_channel, room_candidates_channel, room_channel
from cbt.services import proctoring

log = logging.getLogger(__name__)
COALESCE_SECONDS = 0.5  # tiles within a second of the change; measured in docs/performance.md
TILE_ROOMS_AT_ONCE = 8  # rooms whose tiles are computed in one go (about 240 tiles, 10-30 ms)


def _timing(t: ev.Timing) -> dict[str, Any]:
    return {"attempt_id": t.attempt_id, "state": t.state, "remaining_seconds": t.remaining_seconds}


def _said(said: Said) -> dict[str, Any]:
    """A message for the page: in Chinese, and as its message id and parameters, which the page
    translates into its own language (a room's pages may read different ones)."""
    return {"message": str(said), "msg": said.as_dict()}


def _closed(e: ev.AttemptClosed) -> dict[str, Any]:
    if e.reason == SubmitReason.DEADLINE:
        return {"reason": "deadline", **_said(say(N_("考试时间到，已自动交卷。")))}
    if e.reason == SubmitReason.TERMINATED:
        return {"reason": "terminated", **_said(say(N_("考试已被终止，本批次成绩无效：%(reason)s"), reason=e.note))}
    return {"reason": "proctor", **_said(say(N_("监考员已为您交卷：%(reason)s"), reason=e.note))}


def to_candidate(e: ev.Event) -> tuple[str, dict[str, Any]] | None:
    """What a candidate's page hears of ``e``: (Socket.IO event, payload), or nothing."""
    match e:
        case ev.CandidateAdmitted(part=part):
            return "admitted", {"part": part}
        case ev.AttemptStarted(part=part):
            return "started", {"part": part}
        case ev.AttemptPaused(reason=reason, timing=timing):
            return "paused", {"reason": reason, **_timing(timing)}
        case ev.AttemptResumed(timing=timing):
            return "resumed", _timing(timing)
        case ev.TimeExtended(timing=timing):
            return "time", _timing(timing)
        case ev.AttemptClosed():
            return "submitted", _closed(e)
        case ev.SeatMoved(seat=seat):
            return "moved", _said(say(N_("请到 %(seat)s 号座位重新登录，继续作答。"), seat=seat))
        case ev.MessageSent():
            return "notice", {"id": e.message_id, "text": e.text, "at": e.at.isoformat(), "broadcast": e.broadcast}
    return None


def to_monitor(e: ev.Logged) -> dict[str, Any]:
    """An entry of the dashboards' event list."""
    return {
        "kind": e.kind,
        "text": e.text,
        "at": e.at.isoformat(),
        "candidate_id": e.candidate_id,
        "seat": e.seat,
        "name": e.name,
        "by": e.by,
        "msg": message_of(e.text),  # the page shows it in its own language
    }


class Broadcaster:
    def __init__(
        self, app: Flask, socketio: SocketIO, sessions: sessionmaker[Session], now: Callable[[], datetime]
    ) -> None:
        self.app, self.socketio, self.sessions, self.now = app, socketio, sessions, now
        self._dirty: dict[int, set[int]] = defaultdict(set)  # room id -> candidates whose tiles changed
        self._staffing: set[int] = set()  # rooms whose staff came or went
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self, events: Sequence[ev.Event]) -> None:
        """Push what committed events mean, in their order; between rooms it gives way (考务广播
        reaches every room of a batch: the answers arriving meanwhile are not held up behind it)."""
        room = None
        for e in events:
            if room is not None and e.room_id != room:
                self.socketio.sleep(0)
            room = e.room_id
            if isinstance(e, ev.Logged):
                self.socketio.emit("event", to_monitor(e), to=room_channel(e.room_id), namespace="/monitor")
            elif (push := to_candidate(e)) is not None:
                one = getattr(e, "candidate_id", None)  # a message to the room: one emit, not one per page
                to = room_candidates_channel(e.room_id) if one is None else candidate_channel(one)
                self.socketio.emit(*push, to=to, namespace="/exam")
        seats = ev.changed_seats(events)
        staffing = {e.room_id for e in events if isinstance(e, ev.StaffingChanged)}
        if seats or staffing:  # an event alone (a broadcast, a note) changes no tile
            with self._lock:
                for room_id, candidate_id in seats:
                    self._dirty[room_id].add(candidate_id)
                self._staffing |= staffing
            self._ensure_started()
            self._wake.set()

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="cbt-tiles", daemon=True)
                    self._thread.start()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self.socketio.sleep(COALESCE_SECONDS)  # let more changes of the same moment join this round
            with self._lock:
                dirty, self._dirty = self._dirty, defaultdict(set)
                staffing, self._staffing = self._staffing, set()
            try:
                self._send_tiles(dirty, staffing)
            except Exception:
                log.exception("sending tiles for rooms %s failed", sorted(dirty.keys() | staffing))

    def _send_tiles(self, dirty: dict[int, set[int]], staffing: set[int]) -> None:
        """Only the changed tiles (the page derives the summary) and, where the room's staff came or
        went, its staffing line; computed for several rooms at once, giving way between groups of
        rooms: after a restart every tile has changed, and computing them all in one go held every
        answer up."""
        rooms = sorted(dirty.keys() | staffing)
        for group in [rooms[i : i + TILE_ROOMS_AT_ONCE] for i in range(0, len(rooms), TILE_ROOMS_AT_ONCE)]:
            with self.app.app_context(), self.sessions() as session:
                updates = proctoring.tile_updates(session, {r: dirty.get(r, set()) for r in group}, self.now())
                for room_id in staffing.intersection(updates):
                    updates[room_id]["staffing"] = proctoring.staffing_line(session, room_id)
            for room_id, update in updates.items():
                self.socketio.emit("tiles", update, to=room_channel(room_id), namespace="/monitor")
            self.socketio.sleep(0)
