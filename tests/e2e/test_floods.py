"""Floods from the exam LAN against a real gunicorn server: nothing a client sends makes the only
server process grow without bound, and one candidate's flood of page signals neither slows other
candidates' saves nor pushes the real events out of the room record."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import sqlite3
import statistics
import struct
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest
import socketio

from cbt.core import signals
from cbt.realtime.exam_ns import MAX_CONNECTIONS

pytestmark = pytest.mark.e2e


def worker_rss_mb(server) -> float:
    """Resident memory of the gunicorn worker (the master's only child), in MB."""
    master = server.process.pid
    (child,) = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for line in Path(f"/proc/{child}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def ping_flooder(port: int) -> socket.socket:
    """An unauthenticated WebSocket client that sends pings and never reads (a small receive buffer,
    so what the server answers backs up on the server's side)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    handshake = b""
    while b"\r\n\r\n" not in handshake:
        handshake += sock.recv(1)
    assert handshake.startswith(b"HTTP/1.1 101"), handshake
    sock.settimeout(0.05)
    return sock


PING = struct.pack("!BB", 0x89, 0x80 | 125) + b"\x00\x00\x00\x00" + b"p" * 125  # masked with a zero key


def test_a_ping_flood_that_never_reads_leaves_the_worker_within_50_mb(server):
    before = worker_rss_mb(server)
    flooders = [ping_flooder(server.port) for _ in range(4)]
    sent, deadline = 0, time.monotonic() + 8
    while time.monotonic() < deadline:
        for sock in flooders:
            try:
                sock.send(PING * 64)
                sent += 64
            except (TimeoutError, BlockingIOError):
                pass  # the server has stopped reading from us: our own sends stall
            except OSError:
                pass  # dropped by the server
    after = worker_rss_mb(server)
    for sock in flooders:
        sock.close()
    print(f"\n[e2e] ping flood: {sent} pings sent in 8 s by 4 clients; worker RSS {before:.0f} -> {after:.0f} MB")
    assert after - before < 50
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as r:
        assert r.status == 200, "the server still answers"


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


async def sign_in(http: aiohttp.ClientSession, url: str, account: dict) -> dict:
    body = {"ticket": account["ticket"], "id_number": account["id_number"]}
    async with http.post(url + "/api/v1/candidate/login", json=body) as r:
        assert r.status == 200
        csrf = (await r.json())["csrf_token"]
    async with http.get(url + "/api/v1/candidate/status") as r:
        status = await r.json()
    return {"csrf": csrf, "socket_token": status["socket_token"]}


async def saves(http: aiohttp.ClientSession, url: str, csrf: str, seconds: float) -> list[float]:
    """Another candidate answering every 50 ms: how long each save takes to be acknowledged."""
    headers = {"X-CSRF-Token": csrf}
    async with http.get(url + "/api/v1/candidate/attempt") as r:
        paper = await r.json()
    questions = [q for item in paper["items"] for q in item.get("questions", [item])]
    took, seq, deadline = [], 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        q = questions[seq % len(questions)]
        seq += 1
        started = time.perf_counter()
        body = {"answer": [q["options"][seq % 2]["id"]], "seq": seq}
        async with http.put(f"{url}/api/v1/candidate/attempt/responses/{q['id']}", json=body, headers=headers) as r:
            assert r.status == 200, await r.text()
        took.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)
    return took


def flood(url: str, token: str, seconds: float) -> tuple[int, int]:
    """One candidate's page signals as fast as it can send them, over as many live channels as it may
    open (one more is refused), connecting again each time the server drops one: how many signals it
    sent, and how many times it was dropped."""

    async def connect() -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(url, namespaces=["/exam"], auth={"token": token}, transports=["websocket"])
        return sio

    async def run() -> tuple[int, int]:
        sockets = [await connect() for _ in range(MAX_CONNECTIONS)]
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect()  # a login holds at most three live channels
        sent, dropped, deadline = 0, 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            for i, sio in enumerate(sockets):
                try:
                    for kind in ("copy", "paste", "contextmenu"):
                        await sio.emit("signal", {"kind": kind}, namespace="/exam")
                        sent += 1
                except socketio.exceptions.BadNamespaceError:  # dropped: in again
                    dropped += 1
                    await sio.disconnect()
                    await asyncio.sleep(0.05)
                    with contextlib.suppress(socketio.exceptions.ConnectionError):
                        sockets[i] = await connect()
            await asyncio.sleep(0)
        for sio in sockets:
            await sio.disconnect()
        return sent, dropped

    return asyncio.run(run())


def test_one_candidates_signal_flood_neither_slows_others_nor_empties_the_record(server):
    demo = server.demo(candidates=2)
    flooder, other = demo["candidates"]

    async def run() -> None:
        jar = aiohttp.CookieJar
        async with (
            aiohttp.ClientSession(cookie_jar=jar(unsafe=True)) as a,
            aiohttp.ClientSession(cookie_jar=jar(unsafe=True)) as b,
        ):
            them, us = await sign_in(a, server.url, flooder), await sign_in(b, server.url, other)
            for http, who in ((a, them), (b, us)):
                start = server.url + "/api/v1/candidate/attempt/start"
                async with http.post(start, headers={"X-CSRF-Token": who["csrf"]}) as r:
                    assert r.status == 200
            quiet = await saves(b, server.url, us["csrf"], 3)

            flooded = await asyncio.gather(
                asyncio.to_thread(flood, server.url, them["socket_token"], 10),  # its own loop and connections
                saves(b, server.url, us["csrf"], 10),
            )
            flooded, during = flooded
            print(
                f"\n[e2e] signal flood: {flooded[0]} signals in 10 s over {MAX_CONNECTIONS} connections, dropped and "
                f"back {flooded[1]} times; another "
                f"candidate's saves p50/p99 {p(quiet, 50):.0f}/{p(quiet, 99):.0f} ms before, "
                f"{p(during, 50):.0f}/{p(during, 99):.0f} ms during ({len(during)} saves)"
            )

    asyncio.run(run())
    with sqlite3.connect(server.db_path) as db:
        rows = db.execute(
            "SELECT kind, json_extract(detail, '$.count') FROM incidents i JOIN candidates c ON c.id = i.candidate_id"
            " WHERE c.ticket = ? AND kind IN ('copy', 'paste', 'contextmenu')",
            (flooder["ticket"],),
        ).fetchall()
    assert sorted(kind for kind, _ in rows) == ["contextmenu", "copy", "paste"], "one incident per kind"
    counted = sum(count or 1 for _, count in rows)
    assert counted <= signals.BUDGET_BURST + 12, "the login's budget: a burst of 10, then 1 a second"


def test_a_message_nested_past_the_decoder_closes_only_its_own_connection(server):
    """A Socket.IO event nested 2,000 deep cannot be decoded: that connection is closed, nothing else."""
    sock = ping_flooder(server.port)
    sock.settimeout(5)
    payload = b"42" + b"[" * 2000 + b"]" * 2000
    header = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload)) + b"\x00\x00\x00\x00"  # masked, zero key
    sock.sendall(header + payload)
    data = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            data += chunk
    sock.close()
    assert data.startswith(b"\x81"), "the open packet came first; then the server closed the connection"
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as r:
        assert r.status == 200
