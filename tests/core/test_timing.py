"""Server-owned time: deadline from start, duration, extensions and pauses; grace; state; receipts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cbt.core.attempt import AttemptState, attempt_state, receipt_code
from cbt.core.timing import GRACE, Countdown, Pause

T = datetime(2026, 11, 28, 8, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_deadline_and_remaining():
    clock = Countdown(T, 90 * MIN)
    assert clock.deadline(T) == T + 90 * MIN
    assert clock.remaining_seconds(T + 10 * MIN) == 80 * 60
    assert clock.remaining_seconds(T + 10 * MIN + timedelta(milliseconds=300)) == 80 * 60, "rounded up"
    assert clock.remaining_seconds(T + 200 * MIN) == 0


def test_extension_moves_the_deadline():
    assert Countdown(T, 90 * MIN, 10 * MIN).deadline(T) == T + 100 * MIN


def test_a_pause_stops_the_clock():
    paused = Countdown(T, 90 * MIN, pauses=(Pause(T + 10 * MIN),))
    assert paused.is_paused(T + 20 * MIN)
    assert paused.remaining_seconds(T + 10 * MIN) == paused.remaining_seconds(T + 50 * MIN) == 80 * 60
    resumed = Countdown(T, 90 * MIN, pauses=(Pause(T + 10 * MIN, T + 15 * MIN),))
    assert not resumed.is_paused(T + 20 * MIN)
    assert resumed.deadline(T + 20 * MIN) == T + 95 * MIN


def test_save_window_with_grace():
    clock = Countdown(T, 90 * MIN)
    end = T + 90 * MIN
    assert clock.save_window(end) == "open"
    assert clock.save_window(end + GRACE) == "late"
    assert clock.save_window(end + GRACE + timedelta(microseconds=1)) == "closed"
    assert clock.overdue(end + GRACE + timedelta(seconds=1))


def test_state_is_derived_from_timestamps():
    clock = Countdown(T, 90 * MIN)
    assert attempt_state(None, None, T) is AttemptState.NOT_STARTED
    assert attempt_state(clock, None, T) is AttemptState.IN_PROGRESS
    assert attempt_state(Countdown(T, 90 * MIN, pauses=(Pause(T),)), None, T + MIN) is AttemptState.PAUSED
    assert attempt_state(clock, T + MIN, T + 2 * MIN) is AttemptState.SUBMITTED


def test_receipt_depends_on_every_answer():
    answers = {"A-1": ("B",), "A-2": ("A", "C")}
    code = receipt_code(7, answers)
    assert len(code) == 9 and code[4] == "-"
    assert receipt_code(7, dict(reversed(list(answers.items())))) == code
    assert receipt_code(7, {**answers, "A-2": ("A",)}) != code
    assert receipt_code(8, answers) != code
    assert not set(code) & set("01OI")
