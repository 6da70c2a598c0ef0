"""What happened, as write services report it: small frozen domain events.

A write use case returns an :class:`Outcome`: its answer to the caller and the events of its change.
Once the change is committed, one broadcaster (:mod:`cbt.realtime.broadcast`) turns events into
what each page must hear (the candidate's page, every page of a room, the proctors' dashboards) and
the dashboard tiles to refresh. Services name what happened; they never name a socket event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar


@dataclass(frozen=True, slots=True)
class Event:
    room_id: int


# --- the dashboard only ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeatChanged(Event):
    """Something of a candidate's seat changed (an answer, a start, presence, a login): its tile."""

    candidate_id: int


@dataclass(frozen=True, slots=True)
class StaffingChanged(Event):
    """A proctor of the room came or went."""


@dataclass(frozen=True, slots=True)
class Logged(Event):
    """An entry of the room's event list (an action, a signal, a receipt, a note)."""

    kind: str
    text: str
    at: datetime
    candidate_id: int | None = None
    seat: str | None = None
    name: str | None = None
    by: str = ""


# --- to a candidate's page (and their tile) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """An attempt's clock as the page shows it."""

    attempt_id: int
    state: str
    remaining_seconds: float | None


@dataclass(frozen=True, slots=True)
class CandidateAdmitted(Event):
    candidate_id: int
    part: str


@dataclass(frozen=True, slots=True)
class AttemptStarted(Event):
    candidate_id: int
    part: str


@dataclass(frozen=True, slots=True)
class AttemptPaused(Event):
    candidate_id: int
    reason: str
    timing: Timing


@dataclass(frozen=True, slots=True)
class AttemptResumed(Event):
    candidate_id: int
    timing: Timing


@dataclass(frozen=True, slots=True)
class TimeExtended(Event):
    candidate_id: int
    timing: Timing


@dataclass(frozen=True, slots=True)
class AttemptClosed(Event):
    """Handed in by someone other than the candidate: the deadline, a proctor, a termination."""

    candidate_id: int
    reason: str  # cbt.core.attempt.SubmitReason
    note: str = ""  # the proctor's reason


@dataclass(frozen=True, slots=True)
class SeatMoved(Event):
    """换机: the candidate continues at ``seat``; their logins ended."""

    candidate_id: int
    seat: str


@dataclass(frozen=True, slots=True)
class MessageSent(Event):
    """A message to one candidate (``candidate_id``) or to every candidate of the room."""

    message_id: int
    text: str
    at: datetime
    candidate_id: int | None = None
    broadcast: bool = False  # 考务广播: to every room of the batch


#: The events that change a candidate's tile on the dashboard.
SEAT_EVENTS = (
    SeatChanged,
    CandidateAdmitted,
    AttemptStarted,
    AttemptPaused,
    AttemptResumed,
    TimeExtended,
    AttemptClosed,
    SeatMoved,
)

E = TypeVar("E", bound=Event)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A write use case's answer to its caller, and what happened."""

    result: dict[str, Any] = field(default_factory=dict)
    events: tuple[Event, ...] = ()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]


def changed_seats(events: Iterable[Event]) -> set[tuple[int, int]]:
    """(room id, candidate id) of every tile these events change."""
    return {(e.room_id, e.candidate_id) for e in events if isinstance(e, SEAT_EVENTS)}
