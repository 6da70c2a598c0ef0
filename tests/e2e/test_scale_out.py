"""Scale-out mode: PostgreSQL and Redis, two server processes, WebSocket-only clients.

Both processes are real gunicorn servers on one PostgreSQL database and one Redis message queue. A
candidate works on process A while the proctor watches from process B; a guesser's failed logins,
spread over both processes, meet one limit (counted in Redis); then A is killed (-9) and the
candidate carries on on B with the same login: every acknowledged answer is in the database.
The clients are the benchmark's (bench/loadgen.py): real HTTP and Socket.IO, as the pages speak them.
"""

from __future__ import annotations

import asyncio
import random
import time

import aiohttp
import pytest

from bench.loadgen import Candidate, Proctor, Stats, check_database
from tests.e2e.server import Server, two_servers
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.e2e


async def until(condition, seconds: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


def test_two_processes_on_postgresql_and_redis(tmp_path, postgres_url, redis_url):
    with (
        fresh_database(postgres_url) as database_url,
        two_servers(tmp_path, 2, database_url=database_url, CBT_MESSAGE_QUEUE=redis_url) as (a, b, demo),
    ):
        asyncio.run(exam_across_processes(a, b, demo, database_url))


async def guesses_meet_one_limit(spread: list[Server], last: Server, ticket: str) -> None:
    """Five wrong ID numbers for one ticket over both processes (the limit: cbt.web.ratelimit.ACCOUNT_TRIES),
    then the sixth try is refused as too many, whichever process takes it."""

    async def login(server: Server) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http:
            body = {"ticket": ticket, "id_number": "110101199001011234"}
            async with http.post(server.url + "/api/v1/candidate/login", json=body) as response:
                return response.status, (await response.json())["error"]

    for server in spread:
        assert await login(server) == (401, "invalid_credentials")
    assert await login(last) == (429, "too_many_attempts")


async def exam_across_processes(a: Server, b: Server, demo: dict, database_url: str) -> None:
    stats = Stats(steady=True)
    account = demo["candidates"][0]
    proctor = Proctor(b.url, next(s for s in demo["staff"] if s["role"] == "proctor"), stats)
    await proctor.watch()
    candidate = Candidate(a.url, account, stats)
    candidate.candidate_id = proctor.candidates[account["ticket"]]
    opened = asyncio.Event()
    opened.set()
    await candidate.arrive(opened)
    await candidate.start(opened)
    rng = random.Random(3)
    for _ in range(5):
        await candidate.answer(rng)
    assert not candidate.pending and len(stats.save_ms) == 5

    await candidate.signal()  # sent to A, seen by the proctor's dashboard on B through Redis
    assert await until(lambda: len(stats.dashboard_ms) == 1), "the page signal did not reach the dashboard on B"

    await proctor.broadcast("请保持安静")  # sent to B, reaches the candidate's page on A through Redis
    assert await until(lambda: stats.notices == 1), "the broadcast did not reach the candidate on A"

    await guesses_meet_one_limit([a, b, a, b, a], a, demo["candidates"][1]["ticket"])

    a.kill9()  # the candidate's process dies; the same login carries on on B
    candidate.base = b.url
    for _ in range(5):
        await candidate.answer(rng)
    assert not candidate.pending and len(stats.save_ms) == 10
    await candidate.submit()
    await candidate.close()
    await proctor.close()
    assert not stats.errors, stats.errors
    lost, unsubmitted = check_database(database_url, stats.ledger, [candidate.view["attempt_id"]])
    assert (lost, unsubmitted) == (0, 0)
    assert len(stats.ledger) >= 1
