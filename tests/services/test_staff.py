"""Staff sign-in."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from cbt.core.errors import Unauthorized
from cbt.db.session import transaction
from cbt.services import staff


def timed_refusal(session, username: str) -> float:
    started = time.perf_counter()
    with pytest.raises(Unauthorized) as refused:
        staff.sign_in(session, username, "not-the-password")
    assert refused.value.code == "invalid_credentials" and refused.value.message == "用户名或密码不正确"
    return time.perf_counter() - started


def test_an_unknown_username_is_refused_like_a_wrong_password_and_as_slowly(session):
    with transaction(session):
        staff.create_staff(session, "p1", "张监考", "proctor", "password-123", now=datetime.now(UTC), actor="t")
    assert staff.sign_in(session, "p1", "password-123").username == "p1"
    timed_refusal(session, "nobody")  # the first unknown name also makes the decoy hash, once
    wrong_password, unknown = timed_refusal(session, "p1"), timed_refusal(session, "nobody")
    assert unknown > 0.5 * wrong_password, "the time of a refusal must not tell which usernames exist"
