"""Login failure windows: in this process, or shared through Redis (shared for real across two
server processes in tests/e2e/test_scale_out.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from cbt.core.errors import TooManyRequests, Unauthorized
from cbt.web.ratelimit import FailureLimiter, SharedFailureLimiter
from tests.support.postgres import free_port


def wrong_password() -> None:
    raise Unauthorized("用户名或密码不正确", code="invalid_credentials")


def test_without_redis_each_process_still_counts_its_own_failures(caplog):
    clock = [datetime(2026, 11, 30, 8, 0, tzinfo=UTC)]
    nobody_listens = f"redis://127.0.0.1:{free_port()}/0"
    limiter = SharedFailureLimiter(3, timedelta(minutes=5), lambda: clock[0], nobody_listens)
    with caplog.at_level(logging.WARNING, logger="cbt.web.ratelimit"):
        for _ in range(3):
            with pytest.raises(Unauthorized):
                limiter.guard("ticket:T1", "ip:10.0.0.9", wrong_password)
        with pytest.raises(TooManyRequests):
            limiter.guard("ticket:T1", "ip:10.0.0.9", lambda: "signed in")
    assert "Redis unreachable" in caplog.text
    clock[0] += timedelta(minutes=6)  # the window has passed
    assert limiter.guard("ticket:T1", "ip:10.0.0.9", lambda: "signed in") == "signed in"


def test_the_window_forgets_keys_without_recent_failures():
    """Every address that signs in is checked: the process must not keep them all for its life."""
    clock = [datetime(2026, 11, 30, 8, 0, tzinfo=UTC)]
    limiter = FailureLimiter(3, timedelta(minutes=5), lambda: clock[0])
    for i in range(200):
        assert limiter.guard(f"ticket:T{i}", f"ip:10.0.{i}.1", lambda: "signed in") == "signed in"
    with pytest.raises(Unauthorized):
        limiter.guard("ticket:T1", "ip:10.0.1.1", wrong_password)
    assert len(limiter._failures) == 2  # the two keys of the one failure, nothing of the 200 sign-ins
    clock[0] += timedelta(minutes=6)
    assert not limiter.blocked("ticket:T1", "ip:10.0.1.1") and not limiter._failures
