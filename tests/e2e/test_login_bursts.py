"""Login limits hold under concurrency, against a real gunicorn server: a burst of guesses for one
ticket or username is evaluated at most five times (each try is counted before it is checked), the
right answer is then refused too, other people's sign-ins from another address carry on, and a
proctor lifts a candidate's lockout from the dashboard's API (audited)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import statistics
import time

import aiohttp
import pytest

from cbt.web.ratelimit import ACCOUNT_TRIES

pytestmark = pytest.mark.e2e
WRONG_ID = "110101199001011234"


def p99(seconds: list[float]) -> float:
    return statistics.quantiles(seconds, n=100)[98] if len(seconds) > 1 else seconds[0]


def client(address: str = "127.0.0.1") -> aiohttp.ClientSession:
    """A browser on the exam LAN at ``address`` (any loopback address reaches the server)."""
    connector = aiohttp.TCPConnector(limit=0, local_addr=(address, 0))
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def candidate_login(http: aiohttp.ClientSession, url: str, ticket: str, id_number: str) -> tuple[int, dict]:
    body = {"ticket": ticket, "id_number": id_number}
    async with http.post(url + "/api/v1/candidate/login", json=body) as r:
        return r.status, await r.json()


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


async def staff_page(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url + "/staff/login") as r:
        return csrf_of(await r.text())


async def staff_login(http: aiohttp.ClientSession, url: str, csrf: str, username: str, password: str) -> str:
    form = {"username": username, "password": password, "csrf_token": csrf}
    async with http.post(url + "/staff/login", data=form) as r:
        return await r.text()


async def meanwhile(sign_in, stop: asyncio.Event) -> list[float]:
    """Someone else signing in again and again while the burst runs: how long each took."""
    took = []
    while not stop.is_set():
        started = time.perf_counter()
        await sign_in()
        took.append(time.perf_counter() - started)
    return took


def test_a_burst_of_wrong_id_numbers_for_one_ticket_is_evaluated_at_most_five_times(server):
    demo = server.demo(candidates=3)
    victim, other = demo["candidates"][0], demo["candidates"][1]
    proctor = next(s for s in demo["staff"] if s["role"] == "proctor")

    async def run() -> None:
        async with client() as guesser, client("127.0.0.2") as neighbour:
            stop = asyncio.Event()

            async def sign_in_other() -> None:
                assert (await candidate_login(neighbour, server.url, other["ticket"], other["id_number"]))[0] == 200

            others = asyncio.create_task(meanwhile(sign_in_other, stop))
            replies = await asyncio.gather(
                *(candidate_login(guesser, server.url, victim["ticket"], WRONG_ID) for _ in range(1000))
            )
            stop.set()
            took = await others
            evaluated = sum(1 for status, body in replies if status == 401)
            refused = sum(1 for status, body in replies if status == 429 and body["error"] == "too_many_attempts")
            print(
                f"\n[e2e] 1000 concurrent wrong ID numbers: {evaluated} evaluated, {refused} refused; another "
                f"candidate's {len(took)} sign-ins meanwhile p99 {p99(took) * 1000:.0f} ms"
            )
            assert evaluated <= ACCOUNT_TRIES and evaluated + refused == 1000
            status, body = await candidate_login(guesser, server.url, victim["ticket"], victim["id_number"])
            assert status == 429 and "监考员" in body["message"], "the right ID is refused too, and says what to do"

            async with client() as desk:  # the proctor checks the person's papers and lifts the lockout
                csrf = await staff_page(desk, server.url)
                rooms = await staff_login(desk, server.url, csrf, proctor["username"], proctor["password"])
                csrf = csrf_of(rooms)
                room_id = re.search(r"/proctor/rooms/(\d+)", rooms).group(1)  # type: ignore[union-attr]
                async with desk.get(f"{server.url}/api/v1/proctor/rooms/{room_id}") as r:
                    tiles = (await r.json())["tiles"]
                candidate_id = next(t["candidate_id"] for t in tiles if t["ticket"] == victim["ticket"])
                headers = {"X-CSRF-Token": csrf}
                async with desk.post(
                    f"{server.url}/api/v1/proctor/rooms/{room_id}/unlock",
                    json={"candidate_id": candidate_id},
                    headers=headers,
                ) as r:
                    assert r.status == 200 and (await r.json())["was_locked"] is True
            assert (await candidate_login(guesser, server.url, victim["ticket"], victim["id_number"]))[0] == 200

    asyncio.run(run())
    with sqlite3.connect(server.db_path) as db:
        actors = db.execute("SELECT actor FROM audit_events WHERE action = 'login.unlock'").fetchall()
    assert actors == [(f"proctor:{proctor['username']}",)]


def test_a_burst_of_wrong_passwords_is_evaluated_at_most_five_times(server):
    demo = server.demo(candidates=1)
    target, colleague = [s for s in demo["staff"] if s["role"] == "proctor"][:2]

    async def run() -> None:
        async with client() as guesser, client("127.0.0.2") as desk:
            csrf = await staff_page(guesser, server.url)
            stop = asyncio.Event()

            async def sign_in_colleague() -> None:
                token = await staff_page(desk, server.url)
                page = await staff_login(desk, server.url, token, colleague["username"], colleague["password"])
                assert "退出" in page, "the colleague's sign-in reaches the rooms page"
                async with desk.post(server.url + "/staff/logout", data={"csrf_token": csrf_of(page)}) as r:
                    assert r.status == 200

            others = asyncio.create_task(meanwhile(sign_in_colleague, stop))
            pages = await asyncio.gather(
                *(staff_login(guesser, server.url, csrf, target["username"], "wrong-password") for _ in range(60))
            )
            stop.set()
            took = await others
            evaluated = sum("用户名或密码不正确" in page for page in pages)
            refused = sum("登录失败次数过多" in page for page in pages)
            print(
                f"\n[e2e] 60 concurrent wrong passwords: {evaluated} evaluated, {refused} refused; a colleague's "
                f"{len(took)} sign-ins meanwhile p99 {p99(took) * 1000:.0f} ms"
            )
            assert evaluated <= ACCOUNT_TRIES and evaluated + refused == 60
            page = await staff_login(guesser, server.url, csrf, target["username"], target["password"])
            assert "登录失败次数过多" in page, "the right password is refused too until the window passes"

    asyncio.run(run())
