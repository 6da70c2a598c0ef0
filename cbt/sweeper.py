"""Submits overdue attempts even when no browser is left to ask: a loop in every server process."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from cbt.services import attempts

if TYPE_CHECKING:
    from cbt.runtime import Runtime

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(self, runtime: Runtime, every: float = 1.0) -> None:
        self._runtime, self._every = runtime, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cbt-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        rt = self._runtime
        while not self._stop.wait(self._every):
            try:
                now = rt.now()
                with rt.sessions() as session:  # a read, outside the writer: the writer gets only the due
                    due = attempts.overdue(session, now)
                if due and (closed := rt.act(attempts.expire_overdue, now, due).result["closed"]):
                    log.info("submitted %d overdue attempts at the deadline", len(closed))
            except Exception:  # keep sweeping; the next round retries
                log.exception("sweeping overdue attempts failed")
