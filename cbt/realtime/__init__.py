"""Live updates over Flask-SocketIO: the candidate channel (/exam) and the proctors' dashboard (/monitor).

State lives in the database; sockets only carry news of it. Connections are authenticated with a
signed, expiring token; every incoming event is checked; everything emitted follows the commit
that caused it (:meth:`Realtime.publish` is called with a service's Effects after the writer
answered). Tile updates are coalesced per room and sent at most every ``COALESCE_SECONDS``.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import select

from cbt.db import models
from cbt.db.writer import Writer
from cbt.services import candidates, proctoring, staff
from cbt.services.proctoring import Effects

log = logging.getLogger(__name__)
COALESCE_SECONDS = 0.5  # tiles within a second of the change; measured in docs/performance.md
TILE_ROOMS_AT_ONCE = 8  # rooms whose tiles are computed in one go (about 240 tiles, 10-30 ms)
LOGIN_CHECK_SECONDS = 5  # how soon a socket of a session ended elsewhere is disconnected


def candidate_channel(candidate_id: int) -> str:
    return f"c{candidate_id}"


def room_channel(room_id: int) -> str:
    """The proctors' dashboards of a room (/monitor)."""
    return f"r{room_id}"


def room_candidates_channel(room_id: int) -> str:
    """Every candidate's page in a room (/exam): broadcasts."""
    return f"rc{room_id}"


class Realtime:
    def __init__(self, app: Flask, socketio: SocketIO, writer: Writer, now: Callable[[], datetime]) -> None:
        self.app, self.socketio, self.writer, self.now = app, socketio, writer, now
        self._dirty: dict[int, set[int]] = defaultdict(set)  # room id -> candidates whose tiles changed
        self._staffing: set[int] = set()  # rooms whose staff came or went
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.connections: dict[int, int] = defaultdict(int)  # candidate id -> open sockets in this process
        self.exam: Any = None  # the namespaces (cbt.realtime.namespaces), set by init_realtime
        self.monitor: Any = None

    def publish(self, fx: Effects) -> None:
        """Push what a committed change means: candidate events, room events, tile refreshes."""
        for candidate_id, event, payload in fx.pushes:
            self.socketio.emit(event, payload, to=candidate_channel(candidate_id), namespace="/exam")
        for event, payload in fx.room_pushes:
            self.socketio.emit(event, payload, to=room_candidates_channel(fx.room_id), namespace="/exam")
        for entry in fx.events:
            self.socketio.emit("event", entry, to=room_channel(fx.room_id), namespace="/monitor")
        if fx.dirty or fx.staffing:  # an event alone (a broadcast, a note) changes no tile
            with self._lock:
                self._dirty[fx.room_id] |= fx.dirty
                if fx.staffing:
                    self._staffing.add(fx.room_id)
            self._ensure_started()
            self._wake.set()

    def publish_all(self, effects: list[Effects]) -> None:
        """:meth:`publish` for a change of many rooms (考务广播 reaches every candidate of a batch),
        giving way between rooms: the answers arriving meanwhile are not held up behind thousands of sends."""
        for fx in effects:
            self.publish(fx)
            self.socketio.sleep(0)

    def attempts_closed(self, attempt_ids: list[int]) -> None:
        """The server submitted these attempts at their deadline: tell their pages and their rooms."""
        with self.app.extensions["cbt.sessions"]() as session:
            rows = session.execute(
                select(models.Candidate.id, models.Candidate.room_id)
                .join(models.Attempt, models.Attempt.candidate_id == models.Candidate.id)
                .where(models.Attempt.id.in_(attempt_ids))
            ).all()
        for candidate_id, room_id in rows:
            fx = Effects(room_id, {candidate_id})
            fx.pushes.append((candidate_id, "submitted", {"reason": "deadline", "message": "考试时间到，已自动交卷。"}))
            self.publish(fx)

    # Sessions that ended (a sign-out, a second login, 换机, a password reset, a deactivated account)
    # lose their sockets: at once where this process ended them, and within LOGIN_CHECK_SECONDS
    # wherever else (another process, the command line), by asking the database.

    def candidate_logins_ended(self, login_ids: set[int]) -> None:
        self._disconnect(self.exam.login_ids(), login_ids, "/exam")

    def staff_logins_ended(self, login_ids: set[int]) -> None:
        self._disconnect(self.monitor.login_ids(), login_ids, "/monitor")

    def _disconnect(self, open_: dict[int, list[str]], ended: set[int], namespace: str) -> None:
        for login_id in ended.intersection(open_):
            for sid in open_[login_id]:
                self.socketio.server.disconnect(sid, namespace=namespace, ignore_queue=True)

    def check_logins(self) -> None:
        """Disconnect every socket of this process whose login has ended."""
        exam, monitor = self.exam.login_ids(), self.monitor.login_ids()
        if not exam and not monitor:
            return
        with self.app.extensions["cbt.sessions"]() as session:
            ended_candidates = set(exam) - candidates.live_logins(session, exam)
            ended_staff = set(monitor) - staff.live_logins(session, monitor)
        self._disconnect(exam, ended_candidates, "/exam")
        self._disconnect(monitor, ended_staff, "/monitor")

    def start_login_checks(self) -> None:
        def loop() -> None:
            while True:
                self.socketio.sleep(LOGIN_CHECK_SECONDS)
                try:
                    self.check_logins()
                except Exception:
                    log.exception("checking the live channels' logins failed")

        threading.Thread(target=loop, name="cbt-logins", daemon=True).start()

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
            with self.app.app_context(), self.app.extensions["cbt.sessions"]() as session:
                updates = proctoring.tile_updates(session, {r: dirty.get(r, set()) for r in group}, self.now())
                for room_id in staffing.intersection(updates):
                    updates[room_id]["staffing"] = proctoring.staffing_line(session, room_id)
            self._emit_tiles(updates)

    def _emit_tiles(self, updates: dict[int, dict]) -> None:
        for room_id, update in updates.items():
            self.socketio.emit("tiles", update, to=room_channel(room_id), namespace="/monitor")
        self.socketio.sleep(0)


def async_mode() -> str:
    """gevent when the server runs under gunicorn's gevent worker (sockets monkey-patched), else threads."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


class Entry:
    """The WSGI entry: Socket.IO's path to engine.io, everything else to Flask. It stands where
    Flask-SocketIO puts engine.io's own middleware, which defines a class on every request: a
    reference cycle only the collector frees, 2.5 KB per request kept until the ten-minute sweep
    (docs/performance.md)."""

    PATH = "/socket.io/"

    def __init__(self, app: Flask, socketio: SocketIO, flask_wsgi: Callable) -> None:
        self.app, self.engine, self.flask_wsgi = app, socketio.server, flask_wsgi

    def __call__(self, environ: dict, start_response: Callable):
        environ["flask.app"] = self.app  # where Flask-SocketIO's /monitor handlers look for it
        if environ["PATH_INFO"].startswith(self.PATH):
            return self.engine.handle_request(environ, start_response)
        return self.flask_wsgi(environ, start_response)


def _origins(extra: tuple[str, ...]) -> Callable[..., bool]:
    """engine.io's origin check: the server's own origin (as the request names its host, after the
    trusted proxies' headers), or one of ``extra``."""

    def allowed(origin: str, environ: dict) -> bool:
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin == own or origin in extra

    return allowed


def init_realtime(
    app: Flask,
    writer: Writer,
    now: Callable[[], datetime],
    message_queue: str | None,
    ping: tuple[int, int],
    allowed_origins: tuple[str, ...] = (),
) -> Realtime:
    """``allowed_origins``: what the live channel accepts besides the server's own origin (the
    handshake of a page from anywhere else is refused, as a browser sends its Origin)."""
    mode = async_mode()
    flask_wsgi = app.wsgi_app
    socketio = SocketIO(
        app,
        async_mode=mode,
        message_queue=message_queue,
        cors_allowed_origins=_origins(allowed_origins),
        ping_interval=ping[0],
        ping_timeout=ping[1],
        max_http_buffer_size=64 * 1024,  # a long-polling page's message: the same bound as a WebSocket's
    )
    app.wsgi_app = Entry(app, socketio, flask_wsgi)  # type: ignore[method-assign]
    if mode == "gevent":  # our own WebSocket: framing, direct writes, pings on timers (websocket.py)
        from cbt.realtime import websocket

        websocket.install(socketio.server.eio)
    realtime = Realtime(app, socketio, writer, now)
    from cbt.realtime.namespaces import ExamNamespace, MonitorNamespace

    realtime.exam, realtime.monitor = ExamNamespace("/exam", realtime), MonitorNamespace("/monitor", realtime)
    socketio.server.register_namespace(realtime.exam)
    socketio.on_namespace(realtime.monitor)
    app.extensions["cbt.realtime"] = realtime
    return realtime
