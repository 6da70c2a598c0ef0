"""The composition root: create_app() builds the Flask app and wires engines, the writer, the login
limiter, the live channel (cbt.realtime), the HTTP edge (cbt.web) and the sweeper."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask, jsonify
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from cbt import clock, i18n
from cbt.config import PROJECT_ROOT, Config
from cbt.db.session import make_engine, make_session_factory
from cbt.db.writer import Writer
from cbt.realtime import init_realtime
from cbt.runtime import Runtime
from cbt.services import proctoring
from cbt.sweeper import Sweeper
from cbt.web import api, candidate, health, proctor, security
from cbt.web.context import close_db
from cbt.web.errors import register_error_handlers
from cbt.web.ratelimit import WINDOW, FailureLimiter, SharedFailureLimiter

log = logging.getLogger(__name__)


class RowId(IntegerConverter):
    """Werkzeug's int converter, bounded to what a database id column holds (a larger number in a URL
    is no row: 404, not an overflow in the driver)."""

    def __init__(self, map: Map, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]


def clear_presence(writer: Writer, now: Callable[[], datetime]) -> None:
    """Before serving: candidates left marked online by a process that died are offline (their pages
    reconnect within seconds). On a database that cannot be written (not initialised, read-only) this
    only logs a warning naming the cause."""
    try:
        writer.run(proctoring.clear_presence, now())
    except SQLAlchemyError as exc:
        log.warning("live channels: presence not cleared: %s", health.cause(exc))


def login_limiter(message_queue: str | None, now: Callable[[], datetime]) -> FailureLimiter:
    """Login tries counted in this process, or across every process in the Redis they share."""
    if message_queue and message_queue.startswith(("redis://", "rediss://", "unix://")):
        return SharedFailureLimiter(WINDOW, now, message_queue)
    return FailureLimiter(WINDOW, now)


def create_app(config: Config | None = None, *, now: Callable[[], datetime] = clock.now) -> Flask:
    """Build the app from ``config`` (default: the environment, read now, not at import).

    ``now`` is the server clock; tests pass a controllable one.
    """
    config = config or Config.from_env()
    app = Flask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(config.instance_path),
    )
    app.config.update(
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        MAX_CONTENT_LENGTH=256 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="cbt_session",
        SESSION_REFRESH_EACH_REQUEST=False,  # the login lasts the exam day; no re-signed cookie on every save
    )
    # JSON as UTF-8, keys in the order written: the paper's Chinese text is a third of the size it is
    # as \u escapes, and the start storm encodes one paper per candidate (docs/performance.md).
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    engine = make_engine(config.database_url, read_only=True)
    # The writer's one connection is used only by the writer, one batch at a time (in gevent's native
    # thread pool when under gevent), never shared with request greenlets: a static pool, no locks,
    # and no reconnecting (and on SQLite no WAL checkpoint on close) for every batch.
    write_engine = make_engine(config.database_url, poolclass=StaticPool)
    sessions = make_session_factory(engine, config.audit_key)
    writer = Writer(make_session_factory(write_engine, config.audit_key))
    runtime = app.extensions["cbt"] = Runtime(
        config, engine, sessions, writer, now, login_limiter(config.message_queue, now)
    )
    app.url_map.converters["int"] = RowId  # <int:...> in every route: an id a database column holds
    app.teardown_appcontext(close_db)
    i18n.init_app(app, config.timezone)
    register_error_handlers(app)
    api.register(app)
    app.register_blueprint(candidate.bp)
    app.register_blueprint(proctor.pages)
    app.register_blueprint(proctor.api)
    realtime = init_realtime(app, runtime)
    if config.trusted_proxies:  # outermost, so Socket.IO's handshakes see the client's address too
        n = config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    security.install(app, secure_cookies=config.secure_cookies)

    @app.get("/healthz")
    def healthz():
        report = health.check(writer, config.instance_path, config.min_free_disk_mb, now())
        return jsonify(report), 200 if report["status"] == "ok" else 503

    if config.background:
        if not config.message_queue:  # the only server process: no page is connected to it yet
            clear_presence(writer, now)
        runtime.sweeper = Sweeper(runtime)
        runtime.sweeper.start()
        realtime.start_login_checks()
    return app
