"""Sessions end when they should, against a real gunicorn server with real Socket.IO clients: a staff
cookie replayed after sign-out, a password reset or deactivation is refused, and the dashboard's
socket of that session is disconnected; an ended candidate login (sign-out, a second login) loses
its live channel too."""

from __future__ import annotations

import asyncio
import re
import sqlite3

import aiohttp
import pytest
import socketio
import yarl

pytestmark = pytest.mark.e2e


class Desk:
    """A proctor's browser: signed in over the login form, with the room page's socket token."""

    def __init__(self, url: str, account: dict) -> None:
        self.url, self.account = url, account
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.sio = socketio.AsyncClient(reconnection=False)
        self.dropped = asyncio.Event()
        self.sio.on("disconnect", self.dropped.set, namespace="/monitor")

    async def sign_in(self) -> None:
        async with self.http.get(self.url + "/staff/login") as r:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]
        form = {"username": self.account["username"], "password": self.account["password"], "csrf_token": csrf}
        async with self.http.post(self.url + "/staff/login", data=form) as r:
            rooms = await r.text()
        self.room = int(re.search(r"/proctor/rooms/(\d+)", rooms).group(1))  # type: ignore[union-attr]
        async with self.http.get(f"{self.url}/proctor/rooms/{self.room}") as r:
            page = await r.text()
        self.token = re.search(r'data-token="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        self.csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    async def watch(self) -> dict:
        await self.sio.connect(self.url, namespaces=["/monitor"], auth={"token": self.token}, transports=["websocket"])
        return await self.sio.call("watch", {"room_id": self.room}, namespace="/monitor", timeout=10)

    async def message(self) -> int:
        """A room message with this browser's cookie and CSRF token: the HTTP status."""
        body = {"text": "请保持安静"}
        headers = {"X-CSRF-Token": self.csrf}
        async with self.http.post(
            f"{self.url}/api/v1/proctor/rooms/{self.room}/message", json=body, headers=headers
        ) as r:
            return r.status

    async def close(self) -> None:
        await self.sio.disconnect()
        await self.http.close()


async def reconnect_refused(url: str, token: str, namespace: str) -> bool:
    sio = socketio.AsyncClient(reconnection=False)
    try:
        await sio.connect(url, namespaces=[namespace], auth={"token": token}, transports=["websocket"])
    except socketio.exceptions.ConnectionError:
        return True
    await sio.disconnect()
    return False


def test_a_staff_session_ends_at_sign_out_reset_and_deactivation(server):
    demo = server.demo(candidates=1)
    proctor = next(s for s in demo["staff"] if s["role"] == "proctor")

    async def run() -> None:
        desk = Desk(server.url, proctor)
        await desk.sign_in()
        assert "snapshot" in await desk.watch()
        assert await desk.message() == 200
        cookie = desk.http.cookie_jar.filter_cookies(yarl.URL(server.url))  # as it is before signing out
        async with desk.http.post(server.url + "/staff/logout", data={"csrf_token": desk.csrf}) as r:
            assert r.status == 200
        await asyncio.wait_for(desk.dropped.wait(), 5)  # the session's socket is disconnected at once
        replay = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        replay.cookie_jar.update_cookies({k: v.value for k, v in cookie.items()})
        await desk.http.close()
        desk.http = replay  # the cookie as it was before the sign-out, replayed
        assert await desk.message() == 401
        assert await reconnect_refused(server.url, desk.token, "/monitor"), "the old socket token is dead too"
        await desk.close()

        for command in ("reset-password", "deactivate"):  # from the command line: another process
            desk = Desk(server.url, proctor)
            await desk.sign_in()
            assert "snapshot" in await desk.watch()
            server.cli("staff", command, proctor["username"])
            await asyncio.wait_for(desk.dropped.wait(), 10)  # within the login check's 5 s
            assert await desk.message() == 401, command
            await desk.close()
            if command == "reset-password":
                proctor["password"] = "same-password-1"
                server.env["CBT_STAFF_PASSWORD"] = proctor["password"]
                server.cli("staff", "reset-password", proctor["username"])
                del server.env["CBT_STAFF_PASSWORD"]

    asyncio.run(run())
    with sqlite3.connect(server.db_path) as db:
        actions = [
            a
            for (a,) in db.execute(
                "SELECT action FROM audit_events WHERE subject = ?", (f"staff:{proctor['username']}",)
            )
        ]
    assert actions.count("staff.sign_in") == 3 and "staff.sign_out" in actions and "staff.deactivate" in actions


def test_an_ended_candidate_login_loses_its_live_channel(server):
    account = server.demo(candidates=1)["candidates"][0]

    async def seat() -> tuple[aiohttp.ClientSession, str, str]:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        body = {"ticket": account["ticket"], "id_number": account["id_number"]}
        async with http.post(server.url + "/api/v1/candidate/login", json=body) as r:
            csrf = (await r.json())["csrf_token"]
        async with http.get(server.url + "/api/v1/candidate/status") as r:
            return http, csrf, (await r.json())["socket_token"]

    async def channel(token: str) -> tuple[socketio.AsyncClient, asyncio.Event]:
        sio, dropped = socketio.AsyncClient(reconnection=False), asyncio.Event()
        sio.on("disconnect", dropped.set, namespace="/exam")
        await sio.connect(server.url, namespaces=["/exam"], auth={"token": token}, transports=["websocket"])
        return sio, dropped

    async def run() -> None:
        old_http, _, old_token = await seat()
        old, old_dropped = await channel(old_token)
        assert await old.call("signal", {"kind": "copy"}, namespace="/exam", timeout=10) == {"recorded": True}
        new_http, new_csrf, new_token = await seat()  # a second login ends the first
        await asyncio.wait_for(old_dropped.wait(), 5)
        assert await reconnect_refused(server.url, old_token, "/exam")
        _, new_dropped = await channel(new_token)
        async with new_http.post(server.url + "/api/v1/candidate/logout", headers={"X-CSRF-Token": new_csrf}) as r:
            assert r.status == 200
        await asyncio.wait_for(new_dropped.wait(), 5)
        for http in (old_http, new_http):
            await http.close()

    asyncio.run(run())
