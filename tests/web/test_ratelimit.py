"""Login failure windows: in this process, or shared through Redis (shared for real across two
server processes in tests/e2e/test_scale_out.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from cbt.core.errors import TooManyRequests, Unauthorized
from cbt.web.ratelimit import SharedFailureLimiter
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
