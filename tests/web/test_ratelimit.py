"""Login try windows: counted before they are evaluated, in this process or shared through Redis
(shared for real across two server processes in tests/e2e/test_scale_out.py; the bursts against a
real server in tests/e2e/test_login_bursts.py)."""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from cbt.core.errors import InvalidInput, TooManyRequests, Unauthorized
from cbt.web.ratelimit import ACCOUNT_TRIES, ADDRESS_TRIES, FailureLimiter, SharedFailureLimiter
from tests.support.postgres import free_port

START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def wrong() -> None:
    raise Unauthorized("准考证号或身份证号不正确", code="invalid_credentials")


@pytest.fixture(params=["memory", "redis"])
def limiter(request, redis_server):
    if request.param == "memory":
        return FailureLimiter(timedelta(minutes=5), lambda: START)
    import redis

    redis.Redis.from_url(redis_server.url).flushdb()
    return SharedFailureLimiter(timedelta(minutes=5), lambda: START, redis_server.url)


def test_a_concurrent_burst_is_evaluated_at_most_five_times(limiter):
    """200 wrong tries for one ticket at once: the try is counted before the check, so only five
    checks ever run; the right one is then refused too, until the window passes or a proctor lifts it."""
    evaluated, gate = [], threading.Barrier(50)

    def guess() -> None:
        def check() -> None:
            evaluated.append(1)
            wrong()

        gate.wait()
        for _ in range(4):
            with contextlib.suppress(Unauthorized, TooManyRequests):
                limiter.candidate("T1", "10.0.0.9", check)

    threads = [threading.Thread(target=guess) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(evaluated) == ACCOUNT_TRIES
    with pytest.raises(TooManyRequests, match="监考员"):
        limiter.candidate("T1", "10.0.0.9", lambda: "signed in")
    assert limiter.ticket_locked("T1")
    assert limiter.unlock_ticket("T1") and not limiter.ticket_locked("T1")
    assert limiter.candidate("T1", "10.0.0.9", lambda: "signed in") == "signed in"


def test_candidates_and_staff_behind_one_address_do_not_lock_each_other_out(limiter):
    """A room behind one NAT: five typos of one candidate lock that ticket, not the address."""
    for _ in range(ACCOUNT_TRIES):
        with pytest.raises(Unauthorized):
            limiter.candidate("T1", "10.0.0.1", wrong)
    assert limiter.candidate("T2", "10.0.0.1", lambda: "next candidate") == "next candidate"
    assert limiter.staff("proctor-1", "10.0.0.1", lambda: "proctor") == "proctor"
    # Many candidates' typos from one address meet the address's own, much higher, limit.
    for n in range(ADDRESS_TRIES - ACCOUNT_TRIES):
        with pytest.raises(Unauthorized):
            limiter.candidate(f"U{n}", "10.0.0.1", wrong)
    with pytest.raises(TooManyRequests):
        limiter.candidate("T3", "10.0.0.1", lambda: "locked out")
    assert limiter.staff("proctor-1", "10.0.0.1", lambda: "proctor") == "proctor", "staff count on their own key"
    assert limiter.candidate("T3", "10.0.0.2", lambda: "elsewhere") == "elsewhere"


def test_successes_and_other_errors_give_their_try_back(limiter):
    for _ in range(ADDRESS_TRIES * 2):
        assert limiter.candidate("T1", "10.0.0.1", lambda: "ok") == "ok"

    def bad_request() -> None:
        raise InvalidInput("请输入准考证号和身份证号", code="missing_credentials")

    for _ in range(ACCOUNT_TRIES * 2):
        with pytest.raises(InvalidInput):
            limiter.candidate("T2", "10.0.0.1", bad_request)
    assert not limiter.ticket_locked("T2")


def test_without_redis_each_process_still_counts_its_own_tries(caplog):
    clock = [START]
    nobody_listens = f"redis://127.0.0.1:{free_port()}/0"
    limiter = SharedFailureLimiter(timedelta(minutes=5), lambda: clock[0], nobody_listens)
    with caplog.at_level(logging.WARNING, logger="cbt.web.ratelimit"):
        for _ in range(ACCOUNT_TRIES):
            with pytest.raises(Unauthorized):
                limiter.candidate("T1", "10.0.0.9", wrong)
        with pytest.raises(TooManyRequests):
            limiter.candidate("T1", "10.0.0.9", lambda: "signed in")
    assert "Redis unreachable" in caplog.text
    clock[0] += timedelta(minutes=6)  # the window has passed
    assert limiter.candidate("T1", "10.0.0.9", lambda: "signed in") == "signed in"


def test_the_window_forgets_keys_without_recent_tries():
    """Every address that signs in is checked: the process must not keep them all for its life."""
    clock = [START]
    limiter = FailureLimiter(timedelta(minutes=5), lambda: clock[0])
    for i in range(200):
        assert limiter.candidate(f"T{i}", f"10.0.{i}.1", lambda: "signed in") == "signed in"
    assert not limiter._tries
    with pytest.raises(Unauthorized):
        limiter.candidate("T1", "10.0.1.1", wrong)
    assert len(limiter._tries) == 2  # the two keys of the one failure, nothing of the 200 sign-ins
    clock[0] += timedelta(minutes=6)
    assert limiter.candidate("T9", "10.0.9.1", lambda: "signed in") == "signed in"
    assert not limiter._tries, "keys not tried again are forgotten once the window has passed"


def test_a_whole_centre_behind_one_address_signs_in_at_the_same_second(limiter):
    """Successful sign-ins in flight are not failures: 300 at once from one NAT all get in."""
    gate, results = threading.Barrier(30), []

    def arrive(n: int) -> None:
        gate.wait()
        for k in range(10):
            results.append(limiter.candidate(f"T{n}-{k}", "10.0.0.1", lambda: "in"))

    threads = [threading.Thread(target=arrive, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["in"] * 300
