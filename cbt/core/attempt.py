"""The attempt state machine. State is derived from stored timestamps, never stored as a flag."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum

from cbt.core.timing import Countdown


class AttemptState(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    SUBMITTED = "submitted"


class SubmitReason(StrEnum):
    CANDIDATE = "candidate"  # the candidate pressed 交卷
    DEADLINE = "deadline"  # time ran out; the server submitted the saved answers
    PROCTOR = "proctor"  # forced by a proctor
    TERMINATED = "terminated"  # ended for misconduct (违纪终止), confirmed by a second proctor


def attempt_state(clock: Countdown | None, submitted_at: datetime | None, now: datetime) -> AttemptState:
    if submitted_at is not None:
        return AttemptState.SUBMITTED
    if clock is None:
        return AttemptState.NOT_STARTED
    if clock.is_paused(now):
        return AttemptState.PAUSED
    return AttemptState.IN_PROGRESS


def receipt_code(attempt_id: int, answers: dict[str, tuple[str, ...]]) -> str:
    """A short code derived from the stored answers, for the candidate to quote later (回执码).

    Anyone holding the stored answers can recompute it; a changed answer changes the code.
    """
    body = json.dumps([attempt_id, sorted((q, list(a)) for q, a in answers.items())], separators=(",", ":"))
    digest = hashlib.sha256(body.encode()).digest()
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
    value = int.from_bytes(digest[:5], "big")
    chars = "".join(alphabet[(value >> (5 * i)) & 31] for i in range(8))
    return f"{chars[:4]}-{chars[4:]}"
