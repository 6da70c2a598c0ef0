"""The seating rules: session order, the current attempt, the session a room runs, tile states, staffing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from cbt.core import seating
from cbt.core.seating import TileState

NINE = datetime(2026, 12, 8, 9, 0)
HOUR = timedelta(hours=1)


@dataclass
class Sitting:
    part: str
    starts_at: datetime
    session_seconds: int = 90 * 60
    started_at: datetime | None = None
    submitted_at: datetime | None = None


@dataclass
class Session:
    id: int
    part: str
    starts_at: datetime


def test_sessions_are_taken_by_start_time_and_theory_first_at_the_same_time() -> None:
    skill, theory, later = Session(1, "skill", NINE), Session(2, "theory", NINE), Session(3, "theory", NINE + HOUR)
    assert [s.id for s in seating.in_order([later, skill, theory])] == [2, 1, 3]
    assert seating.session_order(NINE, "unknown part") > seating.session_order(NINE, "skill")


def test_the_current_attempt_skips_handed_in_and_missed_sessions() -> None:
    theory = Sitting("theory", NINE)
    skill = Sitting("skill", NINE + 2 * HOUR)
    assert seating.current([skill, theory], NINE) is theory, "in session order, whatever the input order"
    theory.started_at = NINE
    theory.submitted_at = NINE + HOUR
    assert seating.current([theory, skill], NINE + HOUR) is skill
    assert seating.current([theory, skill], NINE + 10 * HOUR) is None, "the skill session is over unstarted"


def test_an_absent_candidate_moves_on_to_the_next_session() -> None:
    """Absent from theory (never started, the session over): the skill session is current, not theory."""
    theory, skill = Sitting("theory", NINE), Sitting("skill", NINE + 2 * HOUR)
    assert seating.missed(theory, NINE + 91 * timedelta(minutes=1))
    assert not seating.missed(theory, NINE + 90 * timedelta(minutes=1)), "to the end of the session, not missed"
    assert seating.current([theory, skill], NINE + 2 * HOUR) is skill
    theory.started_at = NINE  # started and never handed in: not missed, whatever the time
    assert not seating.missed(theory, NINE + 5 * HOUR)
    assert seating.current([theory, skill], NINE + 5 * HOUR) is theory


def test_latest_started_prefers_the_one_in_progress() -> None:
    theory = Sitting("theory", NINE, started_at=NINE, submitted_at=NINE + HOUR)
    skill = Sitting("skill", NINE + 2 * HOUR)
    assert seating.latest_started([theory, skill]) is theory, "what was handed in last, with its receipt"
    skill.started_at = NINE + 2 * HOUR
    assert seating.latest_started([theory, skill]) is skill
    assert seating.latest_started([Sitting("theory", NINE)]) is None


def test_a_room_runs_its_first_opened_unfinished_session() -> None:
    theory, skill = Session(1, "theory", NINE), Session(2, "skill", NINE + 2 * HOUR)
    sessions = [theory, skill]
    assert seating.active_session(sessions, {1, 2}, NINE - HOUR) is theory, "before any opens: the first"
    assert seating.active_session(sessions, {1, 2}, NINE + 3 * HOUR) is theory, "theory still has someone on it"
    assert seating.active_session(sessions, {2}, NINE + 3 * HOUR) is skill
    assert seating.active_session(sessions, {2}, NINE + HOUR) is theory, "skill not yet open: the last opened"
    assert seating.active_session(sessions, set(), NINE + 9 * HOUR) is skill


@pytest.mark.parametrize(
    ("facts", "state"),
    [
        ({}, TileState.ABSENT),
        ({"logged_in": True}, TileState.WAITING),
        ({"logged_in": True, "admitted": True}, TileState.ADMITTED),
        ({"logged_in": True, "admitted": True, "started": True, "online": True}, TileState.IN_PROGRESS),
        ({"started": True, "online": True, "paused": True}, TileState.PAUSED),
        ({"started": True, "online": False, "paused": True}, TileState.OFFLINE),
        ({"started": True, "submitted": True}, TileState.SUBMITTED),
        ({"submitted": True}, TileState.SUBMITTED),  # closed by a proctor before it started
    ],
)
def test_tile_states(facts: dict[str, bool], state: TileState) -> None:
    given = {"logged_in": False, "online": False, "admitted": False, "started": False, "paused": False}
    assert seating.tile_state(**{**given, "submitted": False, **facts}) is state


@pytest.mark.parametrize(("candidates", "proctors"), [(0, 2), (15, 2), (30, 2), (31, 3), (45, 3), (46, 4)])
def test_theory_rooms_need_a_proctor_per_15_and_at_least_two(candidates: int, proctors: int) -> None:
    assert seating.required_proctors(candidates) == proctors


@pytest.mark.parametrize(("candidates", "examiners"), [(1, 3), (45, 3), (46, 5), (60, 5), (61, 5), (76, 7)])
def test_skill_rooms_need_an_odd_number_of_examiners_at_least_three(candidates: int, examiners: int) -> None:
    assert seating.required_examiners(candidates) == examiners
