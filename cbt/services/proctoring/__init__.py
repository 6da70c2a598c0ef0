"""What proctors do in their room, and what they see: a package of modules by concern.

Every action checks the actor's right to act in the room (:func:`cbt.services.staff.check_room`),
runs in the writer (one savepoint each), is audited with who, when, what, before/after and a reason
where it changes time or ends an attempt, and returns a :class:`cbt.core.events.Outcome`: its answer
and what happened, which the broadcaster (cbt.realtime.broadcast) turns into pushes after the commit.
"""

from __future__ import annotations

from cbt.services.proctoring.actions import (
    admit,
    extend,
    force_submit,
    lift_lockout,
    move_seat,
    pause,
    resume,
    start_room,
)
from cbt.services.proctoring.common import (
    CATEGORIES,
    MAX_EXTENSION_MINUTES,
    MAX_TEXT,
    Seated,
    room_sessions,
)
from cbt.services.proctoring.dashboard import (
    EVENTS_PAGE,
    room_events,
    room_view,
    staffing_line,
    tile_updates,
)
from cbt.services.proctoring.messages import (
    acknowledge_all,
    is_id,
    message,
    message_all,
)
from cbt.services.proctoring.presence import (
    candidate_signal,
    clear_presence,
    set_presence,
    set_staff_presence,
)
from cbt.services.proctoring.room_record import (
    events_page,
    record_incident,
    room_record,
    sign_record,
)
from cbt.services.proctoring.terminations import (
    confirm_termination,
    request_termination,
)

__all__ = [
    "CATEGORIES",
    "EVENTS_PAGE",
    "MAX_EXTENSION_MINUTES",
    "MAX_TEXT",
    "Seated",
    "acknowledge_all",
    "admit",
    "candidate_signal",
    "clear_presence",
    "confirm_termination",
    "events_page",
    "extend",
    "force_submit",
    "is_id",
    "lift_lockout",
    "message",
    "message_all",
    "move_seat",
    "pause",
    "record_incident",
    "request_termination",
    "resume",
    "room_events",
    "room_record",
    "room_sessions",
    "room_view",
    "set_presence",
    "set_staff_presence",
    "sign_record",
    "staffing_line",
    "start_room",
    "tile_updates",
]
