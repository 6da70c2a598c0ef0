"""The Flask application factory."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template
from sqlalchemy.orm import Session

from cbt.config import PROJECT_ROOT, Config
from cbt.db.session import make_engine, make_session_factory
from cbt.services import banks
from cbt.web.errors import register_error_handlers


def create_app(config: Config | None = None) -> Flask:
    """Build the app from ``config`` (default: the environment, read now, not at import)."""
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
        CBT=config,
    )
    engine = make_engine(config.database_url)
    app.extensions["cbt.engine"] = engine
    app.extensions["cbt.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close_session)
    register_error_handlers(app)

    @app.get("/")
    def index() -> str:
        return render_template("index.html", packs=banks.list_packs(db()))

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return jsonify({"status": "ok"})

    return app


def db() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    from flask import current_app

    if "db" not in g:
        g.db = current_app.extensions["cbt.sessions"]()
    return g.db


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
