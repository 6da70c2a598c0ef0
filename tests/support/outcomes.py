"""What a write use case's outcome means to the pages, read through the broadcaster's own mapping."""

from __future__ import annotations

from typing import Any

from cbt.core.events import Logged, Outcome, changed_seats
from cbt.realtime.broadcast import to_candidate, to_monitor


def seats(outcome: Outcome) -> set[int]:
    """The candidates whose dashboard tiles the outcome changes."""
    return {candidate_id for _, candidate_id in changed_seats(outcome.events)}


def pushes(outcome: Outcome) -> list[tuple[int | None, str, dict[str, Any]]]:
    """(candidate id, or None for every page of the room; Socket.IO event; payload) for each push."""
    found = []
    for e in outcome.events:
        if (push := to_candidate(e)) is not None:
            found.append((getattr(e, "candidate_id", None), *push))
    return found


def logged(outcome: Outcome) -> list[dict[str, Any]]:
    """The entries the room's event list gets, as the dashboards receive them."""
    return [to_monitor(e) for e in outcome.of(Logged)]
