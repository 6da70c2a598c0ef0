"""Exam time, owned by the server: the deadline derives from stored facts, never from the browser.

An attempt's deadline is its start plus the allowed duration, plus every extension, plus the time
it spent paused (a paused clock does not run). The browser only shows ``remaining(now)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

GRACE = timedelta(seconds=5)
"""Saves arriving this long after the deadline are still accepted (and marked late): network slack."""


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None = None  # None: still paused


@dataclass(frozen=True)
class Countdown:
    """An attempt's countdown: the timing facts of one attempt, from which its deadline and the time
    left at any moment derive (not a clock: the server's one clock is cbt.clock)."""

    started_at: datetime
    duration: timedelta
    extension: timedelta = timedelta(0)
    pauses: tuple[Pause, ...] = ()

    def paused_for(self, now: datetime) -> timedelta:
        total = timedelta(0)
        for p in self.pauses:
            end = min(p.end or now, now)
            if end > p.start:
                total += end - p.start
        return total

    def is_paused(self, now: datetime) -> bool:
        return any(p.end is None and p.start <= now for p in self.pauses)

    def deadline(self, now: datetime) -> datetime:
        """The moment time runs out, as known at ``now`` (an open pause keeps pushing it back)."""
        return self.started_at + self.duration + self.extension + self.paused_for(now)

    def remaining(self, now: datetime) -> timedelta:
        return max(self.deadline(now) - now, timedelta(0))

    def remaining_seconds(self, now: datetime) -> int:
        """Whole seconds left, rounded up so the display reaches 0 exactly at the deadline."""
        remaining = self.remaining(now)
        return int(-(-remaining.total_seconds() // 1))

    def save_window(self, now: datetime, grace: timedelta = GRACE) -> str:
        """'open' before the deadline, 'late' within the grace after it, 'closed' after that."""
        deadline = self.deadline(now)
        if now <= deadline:
            return "open"
        return "late" if now <= deadline + grace else "closed"

    def overdue(self, now: datetime, grace: timedelta = GRACE) -> bool:
        return self.save_window(now, grace) == "closed"
