"""Per-request access to the app's database session, writer and clock (set up by create_app)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, g
from sqlalchemy.orm import Session

from cbt.db.writer import Writer
from cbt.services.proctoring import SIGNAL_TEXT, Effects

T = TypeVar("T")


def db() -> Session:
    """The request's read session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = current_app.extensions["cbt.sessions"]()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def writer() -> Writer:
    return current_app.extensions["cbt.writer"]


def now() -> datetime:
    """The server's time: the app's injected clock (tests replace it; production reads cbt.clock)."""
    return current_app.extensions["cbt.clock"]()


def write(job: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a write use case in the group-commit writer; returns once it is durable.

    The request's read session is ended first: its connection goes back to the pool while the writer
    works (a storm's requests would otherwise hold them all, waiting), and what it reads next
    includes this write.
    """
    if "db" in g:
        g.db.rollback()
    return writer().run(job, *args, **kwargs)


def publish(fx: Any) -> None:
    """Push a committed change's effects to the sockets that care (see cbt.realtime)."""
    current_app.extensions["cbt.realtime"].publish(fx)


def publish_all(effects: list[Effects]) -> None:
    """:func:`publish` for many rooms at once, giving way between them."""
    current_app.extensions["cbt.realtime"].publish_all(effects)


def touch(room_id: int, candidate_id: int, incident: str | None = None) -> None:
    """A candidate's tile changed (an answer saved, a start, a submission): refresh it, coalesced.

    ``incident`` names a signal the candidate's request itself raised (a second login), for the event list.
    """
    fx = Effects(room_id, {candidate_id})
    if incident:
        fx.events.append(
            {"kind": incident, "text": SIGNAL_TEXT[incident], "at": now().isoformat(), "candidate_id": candidate_id}
        )
    publish(fx)
