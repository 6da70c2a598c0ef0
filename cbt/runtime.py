"""The one object both edges use (the HTTP views and the live channel): the database sessions, the
writer, the server's clock, the login limiter and the broadcaster. ``create_app`` builds it; a view
or a socket handler authenticates, then calls one of its commands, which runs the use case in the
writer and, once it is committed, hands what happened to the broadcaster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cbt.config import Config
from cbt.core.events import Event, Outcome, SeatChanged
from cbt.db.writer import Writer

if TYPE_CHECKING:
    from flask import Flask

    from cbt.services.candidates import LoginInfo
    from cbt.sweeper import Sweeper
    from cbt.web.ratelimit import FailureLimiter

T = TypeVar("T")


class Broadcast(Protocol):
    """Where committed events go: the live channel (cbt.realtime), or nowhere."""

    def publish(self, events: Sequence[Event]) -> None: ...

    def logins_ended(self, *, candidates: Iterable[int] = (), staff: Iterable[int] = ()) -> None:
        """These logins ended (sign-out, a second login, 换机): their sockets close now."""


class Silent:
    """No live channel (the command line, an app built without one): events go nowhere."""

    def publish(self, events: Sequence[Event]) -> None:
        pass

    def logins_ended(self, *, candidates: Iterable[int] = (), staff: Iterable[int] = ()) -> None:
        pass


@dataclass
class Runtime:
    config: Config
    engine: Engine  # the read engine (the writer has its own connection)
    sessions: sessionmaker[Session]
    writer: Writer
    now: Callable[[], datetime]
    login_limiter: FailureLimiter
    broadcast: Broadcast = field(default_factory=Silent)
    sweeper: Sweeper | None = None

    def act(self, job: Callable[..., Outcome], *args: Any, **kwargs: Any) -> Outcome:
        """Run a write use case in the writer; once committed, publish what happened."""
        outcome = self.writer.run(job, *args, **kwargs)
        self.broadcast.publish(outcome.events)
        return outcome

    def act_behind(self, job: Callable[..., Outcome], *args: Any, **kwargs: Any) -> Outcome:
        """:meth:`act` for bookkeeping that waits behind the answers (presence)."""
        outcome = self.writer.run_behind(job, *args, **kwargs)
        self.broadcast.publish(outcome.events)
        return outcome

    def candidate_act(self, login: LoginInfo, job: Callable[..., T], *args: Any) -> T:
        """A candidate's own command (start, an answer, 交卷), the same over HTTP and the live channel:
        ``job(session, candidate id, *args)`` in the writer, and their seat's tile refreshed.

        These use cases answer the page directly (the answer is the API's reply, on the exam's hottest
        path) and change nothing but the candidate's own seat, which the login names."""
        result = self.writer.run(job, login.candidate_id, *args)
        self.broadcast.publish((SeatChanged(login.room_id, login.candidate_id),))
        return result


def of(app: Flask) -> Runtime:
    """The app's runtime (set by ``cbt.app.create_app``)."""
    runtime: Runtime = app.extensions["cbt"]
    return runtime
