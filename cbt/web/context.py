"""Per-request access to the runtime (cbt.runtime, set up by create_app): the request's read
session, the writer, the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, g
from sqlalchemy.orm import Session

from cbt import runtime as _runtime
from cbt.core.events import Outcome
from cbt.runtime import Runtime
from cbt.services.candidates import LoginInfo

T = TypeVar("T")


def runtime() -> Runtime:
    return _runtime.of(current_app)


def db() -> Session:
    """The request's read session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = runtime().sessions()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def now() -> datetime:
    """The server's time: the app's injected clock (tests replace it; production reads cbt.clock)."""
    return runtime().now()


def _end_read() -> None:
    """The request's read session is ended before a write: its connection goes back to the pool while
    the writer works (a storm's requests would otherwise hold them all, waiting), and what it reads
    next includes the write."""
    if "db" in g:
        g.db.rollback()


def write(job: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a write use case that reports no events (sign-in bookkeeping) in the group-commit writer;
    returns once it is durable."""
    _end_read()
    return runtime().writer.run(job, *args, **kwargs)


def act(job: Callable[..., Outcome], *args: Any, **kwargs: Any) -> Outcome:
    """Run a write use case; once it is durable, publish what happened (:meth:`Runtime.act`)."""
    _end_read()
    return runtime().act(job, *args, **kwargs)


def candidate_act(login: LoginInfo, job: Callable[..., T], *args: Any) -> T:
    """The candidate's own command (:meth:`Runtime.candidate_act`)."""
    _end_read()
    return runtime().candidate_act(login, job, *args)
