"""Who sits where, doing what: the order of a batch's sessions, the attempt a candidate works on now,
the session a room is running, the state of a seat's tile on the dashboard, and the staffing rule.

One definition each, used by the candidate's pages, the proctors' actions and the dashboard alike.
Pure: callers pass rows or models that have the attributes the protocols name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

from cbt.core.text import N_


class Part(StrEnum):
    """The parts of a certification exam, in the order they are taken."""

    THEORY = "theory"  # 理论知识
    SKILL = "skill"  # 操作技能 (case analysis, 技能考核)


PART_ORDER: dict[str, int] = {Part.THEORY: 0, Part.SKILL: 1}


class TileState(StrEnum):
    """A seat's state on the proctors' dashboard, for the session the room shows."""

    ABSENT = "absent"  # not logged in
    WAITING = "waiting"  # logged in, not yet admitted
    ADMITTED = "admitted"  # identity checked, waiting for the start
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    SUBMITTED = "submitted"
    OFFLINE = "offline"  # started, and the page's live channel is gone


TILE_NAMES = {  # what the dashboard calls each state
    TileState.ABSENT: N_("未登录"),
    TileState.WAITING: N_("已登录待入场"),
    TileState.ADMITTED: N_("已入场待开考"),
    TileState.IN_PROGRESS: N_("答题中"),
    TileState.PAUSED: N_("已暂停"),
    TileState.SUBMITTED: N_("已交卷"),
    TileState.OFFLINE: N_("离线"),
}


class Scheduled(Protocol):
    """A session of a batch as the rules need it (a model or a row)."""

    @property
    def id(self) -> int: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def part(self) -> str: ...


class Sitting(Protocol):
    """A candidate's attempt at one session, with that session's times."""

    @property
    def starts_at(self) -> datetime: ...
    @property
    def part(self) -> str: ...
    @property
    def session_seconds(self) -> int: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def submitted_at(self) -> datetime | None: ...


S = TypeVar("S", bound=Scheduled)
A = TypeVar("A", bound=Sitting)


def session_order(starts_at: datetime, part: str) -> tuple[datetime, int]:
    """The key sessions are taken in: by start time, theory before skill at the same time."""
    return starts_at, PART_ORDER.get(part, len(PART_ORDER))


def in_order(sessions: Iterable[S]) -> list[S]:
    return sorted(sessions, key=lambda s: session_order(s.starts_at, s.part))


def missed(sitting: Sitting, now: datetime) -> bool:
    """Never started nor handed in, and its session is over (缺考)."""
    over = now > sitting.starts_at + timedelta(seconds=sitting.session_seconds)
    return over and sitting.started_at is None and sitting.submitted_at is None


def current(sittings: Iterable[A], now: datetime) -> A | None:
    """The attempt a candidate works on now: in session order, the first neither handed in nor missed."""
    ordered = sorted(sittings, key=lambda a: session_order(a.starts_at, a.part))
    return next((a for a in ordered if a.submitted_at is None and not missed(a, now)), None)


def latest_started(sittings: Sequence[A]) -> A | None:
    """The attempt in progress, else the last one started (``sittings`` in session order): what the
    candidate's page shows, a hand-in's receipt included."""
    started = [a for a in sittings if a.started_at is not None]
    chosen = [a for a in started if a.submitted_at is None] or started
    return chosen[-1] if chosen else None


def active_session(sessions: Sequence[S], unfinished: set[int], now: datetime) -> S:
    """The session a room is running: the first opened one the room has not finished (some attempt
    in it not handed in), else the last opened one, else the first. ``sessions`` in session order."""
    opened = [s for s in sessions if s.starts_at <= now]
    for session in opened:
        if session.id in unfinished:
            return session
    return opened[-1] if opened else sessions[0]


def tile_state(
    *, logged_in: bool, online: bool, admitted: bool, started: bool, paused: bool, submitted: bool
) -> TileState:
    """A seat's state from its candidate's login and live channel and their attempt's timestamps."""
    if submitted:
        return TileState.SUBMITTED
    if started:
        if not online:
            return TileState.OFFLINE
        return TileState.PAUSED if paused else TileState.IN_PROGRESS
    if logged_in:
        return TileState.ADMITTED if admitted else TileState.WAITING
    return TileState.ABSENT


# 国家职业技能标准 1.9.3: theory rooms 监考人员与考生配比 1:15, at least 2 proctors; skill rooms one
# examiner (考评员) per 15 candidates, at least 3, an odd number.
STAFF_RATIO = 15
MIN_PROCTORS = 2
MIN_EXAMINERS = 3


def required_proctors(candidates: int) -> int:
    """Proctors a theory room of ``candidates`` needs."""
    return max(MIN_PROCTORS, math.ceil(candidates / STAFF_RATIO))


def required_examiners(candidates: int) -> int:
    """Examiners a skill room of ``candidates`` needs: the ratio, at least 3, rounded up to odd."""
    needed = max(MIN_EXAMINERS, math.ceil(candidates / STAFF_RATIO))
    return needed if needed % 2 else needed + 1
