"""Submits overdue attempts even when no browser is left to ask: a loop in every server process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from cbt.db.writer import Writer
from cbt.services import attempts

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        writer: Writer,
        now: Callable[[], datetime],
        every: float = 1.0,
        on_closed: Callable[[list[int]], None] | None = None,
    ) -> None:
        self._sessions, self._writer, self._now, self._every = sessions, writer, now, every
        self._on_closed = on_closed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cbt-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                now = self._now()
                due = self._overdue(now)  # a read, outside the writer: the writer gets only the due
                closed = self._writer.run(attempts.expire_overdue, now, due) if due else []
                if closed:
                    log.info("submitted %d overdue attempts at the deadline", len(closed))
                    if self._on_closed:
                        self._on_closed(closed)
            except Exception:  # keep sweeping; the next round retries
                log.exception("sweeping overdue attempts failed")

    def _overdue(self, now: datetime) -> list[int]:
        with self._sessions() as session:
            return attempts.overdue(session, now)
