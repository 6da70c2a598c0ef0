"""Live updates over Flask-SocketIO: the candidate channel (/exam, :mod:`cbt.realtime.exam_ns`) and
the proctors' dashboard (/monitor, :mod:`cbt.realtime.monitor_ns`).

State lives in the database; sockets only carry news of it. Connections are authenticated with a
signed, expiring token; every incoming event is checked; everything emitted follows the commit that
caused it (the runtime hands committed events to :class:`cbt.realtime.broadcast.Broadcaster`).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from cbt.core.events import Event
from cbt.realtime.broadcast import Broadcaster
from cbt.runtime import Runtime
from cbt.services import candidates, staff

log = logging.getLogger(__name__)
LOGIN_CHECK_SECONDS = 5  # how soon a socket of a session ended elsewhere is disconnected


class Realtime:
    """The live channel of this process: its namespaces, its sockets, and the broadcaster (the
    runtime's ``broadcast``)."""

    def __init__(self, runtime: Runtime, socketio: SocketIO, broadcaster: Broadcaster) -> None:
        self.runtime, self.socketio, self.broadcaster = runtime, socketio, broadcaster
        self.connections: dict[int, int] = defaultdict(int)  # candidate id -> open sockets in this process
        self.exam: Any = None  # the namespaces, set by init_realtime
        self.monitor: Any = None

    def publish(self, events: Sequence[Event]) -> None:
        self.broadcaster.publish(events)

    # Sessions that ended (a sign-out, a second login, 换机, a password reset, a deactivated account)
    # lose their sockets: at once where this process ended them, and within LOGIN_CHECK_SECONDS
    # wherever else (another process, the command line), by asking the database.

    def logins_ended(self, *, candidates: Iterable[int] = (), staff: Iterable[int] = ()) -> None:
        ended_candidates, ended_staff = set(candidates), set(staff)
        if ended_candidates:  # most logins end none: no walk over every open socket then
            self._disconnect(self.exam.login_ids(), ended_candidates, "/exam")
        if ended_staff:
            self._disconnect(self.monitor.login_ids(), ended_staff, "/monitor")

    def _disconnect(self, open_: dict[int, list[str]], ended: set[int], namespace: str) -> None:
        for login_id in ended.intersection(open_):
            for sid in open_[login_id]:
                self.socketio.server.disconnect(sid, namespace=namespace, ignore_queue=True)

    def check_logins(self) -> None:
        """Disconnect every socket of this process whose login has ended."""
        exam, monitor = self.exam.login_ids(), self.monitor.login_ids()
        if not exam and not monitor:
            return
        with self.runtime.sessions() as session:
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


def init_realtime(app: Flask, runtime: Runtime) -> Realtime:
    """The live channel on ``app``, made the runtime's broadcast. It accepts the server's own origin
    and the configured ``allowed_origins`` (the handshake of a page from anywhere else is refused,
    as a browser sends its Origin)."""
    config = runtime.config
    mode = async_mode()
    flask_wsgi = app.wsgi_app
    socketio = SocketIO(
        app,
        async_mode=mode,
        message_queue=config.message_queue,
        cors_allowed_origins=_origins(config.allowed_origins),
        ping_interval=config.ping[0],
        ping_timeout=config.ping[1],
        max_http_buffer_size=64 * 1024,  # a long-polling page's message: the same bound as a WebSocket's
    )
    app.wsgi_app = Entry(app, socketio, flask_wsgi)  # type: ignore[method-assign]
    if mode == "gevent":  # our own WebSocket: framing, direct writes, pings on timers (websocket.py)
        from cbt.realtime import websocket

        websocket.install(socketio.server.eio)
    realtime = Realtime(runtime, socketio, Broadcaster(app, socketio, runtime.sessions, runtime.now))
    from cbt.realtime.exam_ns import ExamNamespace
    from cbt.realtime.monitor_ns import MonitorNamespace

    realtime.exam, realtime.monitor = ExamNamespace("/exam", realtime), MonitorNamespace("/monitor", realtime)
    socketio.server.register_namespace(realtime.exam)
    socketio.on_namespace(realtime.monitor)
    runtime.broadcast = realtime
    return realtime
