"""Load generator for `make bench-smoke` / `make bench`: a compressed exam day against a real server.

It speaks the real protocols (HTTP JSON API and Socket.IO) as candidate browsers and proctor
dashboards do, keeps a ledger of every acknowledged answer, and at the end checks that the
database holds every one of them. It reports figures; it asserts nothing (tests do that).

Phases: start storm (all candidates log in, connect, start and hold their paper, behind a barrier),
steady answering with page signals, a broadcast to every candidate, and an end storm (everyone
submits at once). Proctors watch every room throughout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


@dataclass
class Stats:
    save_ms: list[float] = field(default_factory=list)
    dashboard_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    ledger: dict[tuple[int, str], tuple[int, list[str]]] = field(default_factory=dict)  # (attempt, qid) -> acked
    signal_sent: dict[int, float] = field(default_factory=dict)  # candidate id -> send time of the last signal
    notices: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class Candidate:
    def __init__(self, base: str, account: dict, stats: Stats) -> None:
        self.base, self.account, self.stats = base, account, stats
        self.http: aiohttp.ClientSession | None = None
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5)
        self.csrf = ""
        self.view: dict[str, Any] = {}
        self.seq: dict[str, int] = {}
        self.candidate_id = 0
        self.sio.on("notice", self._notice, namespace="/exam")

    async def _notice(self, data: Any) -> None:
        self.stats.notices += 1
        await self.sio.emit("ack", {"message_id": data["id"]}, namespace="/exam")

    async def call(self, method: str, path: str, body: Any = None) -> dict:
        assert self.http is not None
        headers = {"X-CSRF-Token": self.csrf}
        async with self.http.request(method, self.base + path, json=body, headers=headers) as response:
            data = await response.json(content_type=None)
            if response.status >= 400:
                raise RuntimeError(f"{response.status} {data.get('error')}")
            return data

    async def arrive(self) -> None:
        """Log in, connect the live channel, start, and hold the paper."""
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        login = await self.call("POST", "/api/v1/candidate/login", self.account_credentials())
        self.csrf = login["csrf_token"]
        status = await self.call("GET", "/api/v1/candidate/status")
        await self.sio.connect(
            self.base,
            namespaces=["/exam"],
            auth={"token": status["socket_token"]},
            transports=["websocket"],
            wait_timeout=30,
        )
        self.view = await self.call("POST", "/api/v1/candidate/attempt/start")

    def account_credentials(self) -> dict:
        return {"ticket": self.account["ticket"], "id_number": self.account["id_number"]}

    def questions(self) -> list[dict]:
        return [q for item in self.view["items"] for q in item.get("questions", [item])]

    async def answer(self, rng: random.Random) -> None:
        q = rng.choice(self.questions())
        options = [o["id"] for o in q["options"]]
        answer = sorted(rng.sample(options, 2)) if q["type"] == "multiple" else [rng.choice(options)]
        seq = self.seq.get(q["id"], 0) + 1
        self.seq[q["id"]] = seq
        started = time.perf_counter()
        try:
            result = await self.call(
                "PUT", f"/api/v1/candidate/attempt/responses/{q['id']}", {"answer": answer, "seq": seq}
            )
        except Exception as exc:
            self.stats.error(f"save: {exc}"[:60])
            return
        self.stats.save_ms.append((time.perf_counter() - started) * 1000)
        if result["seq"] == seq:
            self.stats.ledger[(self.view["attempt_id"], q["id"])] = (seq, answer)

    async def signal(self) -> None:
        self.stats.signal_sent[self.candidate_id] = time.perf_counter()
        await self.sio.emit("signal", {"kind": "copy"}, namespace="/exam")

    async def submit(self) -> None:
        try:
            await self.call("POST", "/api/v1/candidate/attempt/submit")
        except Exception as exc:
            self.stats.error(f"submit: {exc}"[:60])

    async def close(self) -> None:
        await self.sio.disconnect()
        if self.http:
            await self.http.close()


class Proctor:
    """A proctor's dashboard: signs in, watches one room, times page signals arriving as events."""

    def __init__(self, base: str, account: dict, stats: Stats) -> None:
        self.base, self.account, self.stats = base, account, stats
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5)
        self.http: aiohttp.ClientSession | None = None
        self.room_id = 0
        self.csrf = ""
        self.candidates: dict[str, int] = {}  # ticket -> candidate id
        self.sio.on("event", self._event, namespace="/monitor")

    async def _event(self, entry: dict) -> None:
        sent = self.stats.signal_sent.pop(entry.get("candidate_id") or -1, None)
        if sent is not None and entry.get("kind") == "copy":
            self.stats.dashboard_ms.append((time.perf_counter() - sent) * 1000)

    async def watch(self) -> None:
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with self.http.get(self.base + "/staff/login") as r:
            page = await r.text()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        form = {"username": self.account["username"], "password": self.account["password"], "csrf_token": csrf}
        async with self.http.post(self.base + "/staff/login", data=form, allow_redirects=True) as r:
            rooms_page = await r.text()
        self.room_id = int(re.search(r"/proctor/rooms/(\d+)", rooms_page).group(1))  # type: ignore[union-attr]
        async with self.http.get(f"{self.base}/proctor/rooms/{self.room_id}") as r:
            page = await r.text()
        token = re.search(r'data-token="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        self.csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        await self.sio.connect(self.base, namespaces=["/monitor"], auth={"token": token}, transports=["websocket"])
        reply = await self.sio.call("watch", {"room_id": self.room_id}, namespace="/monitor", timeout=30)
        self.candidates = {t["ticket"]: t["candidate_id"] for t in reply["snapshot"]["tiles"]}

    async def broadcast(self, text: str) -> None:
        assert self.http is not None
        headers = {"X-CSRF-Token": self.csrf}
        async with self.http.post(
            f"{self.base}/api/v1/proctor/rooms/{self.room_id}/message", json={"text": text}, headers=headers
        ) as r:
            if r.status != 200:
                self.stats.error(f"broadcast {r.status}")

    async def close(self) -> None:
        await self.sio.disconnect()
        if self.http:
            await self.http.close()


async def gather_limited(coros: list, limit: int) -> list:
    semaphore = asyncio.Semaphore(limit)

    async def run(c):  # type: ignore[no-untyped-def]
        async with semaphore:
            return await c

    return await asyncio.gather(*(run(c) for c in coros), return_exceptions=True)


async def exam_day(base: str, demo: dict, steady_seconds: float, db_path: str, seed: int = 1) -> dict:
    stats = Stats()
    rng = random.Random(seed)
    proctors = [
        Proctor(base, s, stats) for s in demo["staff"] if s["role"] == "proctor" and s["username"].endswith("-1")
    ]
    await asyncio.gather(*(p.watch() for p in proctors))
    candidates = [Candidate(base, a, stats) for a in demo["candidates"]]
    for p in proctors:
        for c in candidates:
            if c.account["ticket"] in p.candidates:
                c.candidate_id = p.candidates[c.account["ticket"]]

    started = time.perf_counter()  # start storm: everyone at once, like 开考
    results = await asyncio.gather(*(c.arrive() for c in candidates), return_exceptions=True)
    start_storm = time.perf_counter() - started
    start_failures = sum(1 for r in results if isinstance(r, Exception))
    for r in results:
        if isinstance(r, Exception):
            stats.error(f"start: {r}"[:60])
    present = [c for c, r in zip(candidates, results, strict=True) if not isinstance(r, Exception)]

    async def steady(c: Candidate) -> None:  # an answer every few seconds (compressed from 20-60 s)
        local = random.Random(rng.random())
        end = time.perf_counter() + steady_seconds
        await asyncio.sleep(local.uniform(0, 2))
        while time.perf_counter() < end:
            await c.answer(local)
            if local.random() < 0.05:
                await c.signal()
            await asyncio.sleep(local.uniform(1.5, 4.5))

    await asyncio.gather(*(steady(c) for c in present))

    notices_before = stats.notices
    sent = time.perf_counter()
    await asyncio.gather(*(p.broadcast("请检查答题卡，考试即将结束") for p in proctors))
    while stats.notices - notices_before < len(present) and time.perf_counter() - sent < 10:
        await asyncio.sleep(0.01)
    broadcast_s = time.perf_counter() - sent
    broadcast_reached = stats.notices - notices_before

    started = time.perf_counter()  # end storm: everybody hands in at once
    await asyncio.gather(*(c.submit() for c in present))
    end_storm = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in candidates), *(p.close() for p in proctors), return_exceptions=True)

    lost = check_ledger(db_path, stats.ledger)
    return {
        "candidates": len(candidates),
        "present": len(present),
        "saves": len(stats.save_ms),
        "save_p50_ms": round(pct(stats.save_ms, 50), 1),
        "save_p99_ms": round(pct(stats.save_ms, 99), 1),
        "save_p999_ms": round(pct(stats.save_ms, 99.9), 1),
        "save_mean_ms": round(statistics.fmean(stats.save_ms), 1) if stats.save_ms else None,
        "dashboard_p50_ms": round(pct(stats.dashboard_ms, 50), 1),
        "dashboard_p99_ms": round(pct(stats.dashboard_ms, 99), 1),
        "dashboard_samples": len(stats.dashboard_ms),
        "start_storm_s": round(start_storm, 2),
        "start_failures": start_failures,
        "broadcast_s": round(broadcast_s, 3),
        "broadcast_reached": broadcast_reached,
        "end_storm_s": round(end_storm, 2),
        "acknowledged": len(stats.ledger),
        "lost": lost,
        "errors": sum(stats.errors.values()),
        "error_kinds": stats.errors,
    }


def check_ledger(db_path: str, ledger: dict[tuple[int, str], tuple[int, list[str]]]) -> int:
    """Every acknowledged answer must be in the database, at that sequence number or a newer one."""
    with sqlite3.connect(db_path) as db:
        stored = {
            (a, q): (s, json.loads(ans))
            for a, q, s, ans in db.execute("SELECT attempt_id, question_id, seq, answer FROM responses")
        }
    lost = 0
    for key, (seq, answer) in ledger.items():
        found = stored.get(key)
        if found is None or found[0] < seq or (found[0] == seq and found[1] != answer):
            lost += 1
    return lost


def main() -> None:
    parser = argparse.ArgumentParser(description="cbt load generator (see bench/run.py)")
    parser.add_argument("--base", required=True)
    parser.add_argument("--demo", required=True, help="JSON printed by python -m cbt demo --json")
    parser.add_argument("--db", required=True, help="the server's SQLite file, to check the ledger")
    parser.add_argument("--steady", type=float, default=20)
    args = parser.parse_args()
    demo = json.loads(Path(args.demo).read_text(encoding="utf-8"))
    print(json.dumps(asyncio.run(exam_day(args.base, demo, args.steady, args.db)), ensure_ascii=False))


if __name__ == "__main__":
    main()
