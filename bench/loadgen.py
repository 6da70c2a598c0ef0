"""Load generator for `make bench` / `make bench-smoke`: a compressed exam day against a real server.

It speaks the real protocols (HTTP JSON API and Socket.IO, whose pings are the pages' heartbeats)
as candidate browsers and proctor dashboards do, keeps a ledger of every acknowledged answer, and
at the end checks that the database holds every one of them. It reports figures; it asserts
nothing (tests do that).

Phases: check-in behind a barrier (every candidate logs in, loads the exam page, reads the status
and opens the live channel at once: the arrival storm), the proctors admit their rooms, then the
start storm behind a second barrier (the session opens: every candidate clicks 开始考试 and holds the
paper at once); steady answering with page signals; a kill -9 of the server and its restart (asked
of bench/run.py over stdout/stdin: ``@kill`` out, ``@up`` back), during which candidates keep their
unacknowledged answers and replay them in order, as the exam page does; the exam administrator's
broadcast to every candidate (考务广播: one request for every room); and the end, where half the
candidates hand in together just before the deadline and the server submits the other half at the
deadline. Proctors watch every room throughout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import heapq
import json
import random
import re
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import engineio
import socketio
import sqlalchemy as sa
import uvloop  # libuv's event loop: less of the load generator's one core per page than asyncio's own

GRACE_S = 5.0  # cbt.core.timing.GRACE: the server submits this long after the deadline
HANDIN_BEFORE_DEADLINE_S = 3.0
LIVE_TIMEOUT_S = 20  # the exam page's wait for an answer on the live channel before it asks over HTTP
READING_SECONDS = (2.0, 8.0)  # a candidate reads a proctor's message before clicking 我已知晓


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


class Readers:
    """Every page's reader of a message: each candidate clicks 我已知晓 2-8 s after it arrived. One task
    for all of them (a task per page would be thousands of tasks made and freed in this one process at
    each broadcast, its collections pausing every page)."""

    def __init__(self) -> None:
        self.due: list[tuple[float, int, Candidate, int]] = []  # (when, tie-break, who, message id): a heap
        self.task: asyncio.Task | None = None

    def read(self, candidate: Candidate, message_id: int) -> None:
        when = time.perf_counter() + random.uniform(*READING_SECONDS)
        heapq.heappush(self.due, (when, id(candidate), candidate, message_id))
        if self.task is None:
            self.task = asyncio.ensure_future(self._acknowledge())

    async def _acknowledge(self) -> None:
        while self.due:
            wait = self.due[0][0] - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(min(wait, 0.05))  # a message arriving meanwhile may be due sooner
                continue
            _, _, candidate, message_id = heapq.heappop(self.due)
            if candidate.sio.connected:
                await candidate.sio.emit("ack", {"message_id": message_id}, namespace="/exam")
        self.task = None

    async def finished(self) -> None:
        if self.task is not None:
            await asyncio.shield(self.task)


@dataclass
class Stats:
    save_ms: list[float] = field(default_factory=list)
    save_at: list[float] = field(default_factory=list)  # when each counted save was sent
    dashboard_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    ledger: dict[tuple[int, str], tuple[int, list[str]]] = field(default_factory=dict)  # (attempt, qid) -> acked
    signal_sent: dict[int, float] = field(default_factory=dict)  # candidate id -> send time of the last signal
    notices: int = 0
    readers: Readers = field(default_factory=Readers)
    stalls: list[tuple[float, float]] = field(default_factory=list)  # (when, seconds) this process's loop was late
    steady: bool = False  # save latencies count only in the steady phase, outside the restart

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def young_collections_only() -> None:
    """Thousands of pages are millions of objects in this one process: a whole-heap collection would
    stop every page for a second and count as the server's latency. Only the young generations are
    collected while the pages are set up (what they miss lives until the run ends); none at all
    once the exam runs (see exam_day)."""
    gc.set_threshold(700, 10, 1_000_000)


class PageEngine(engineio.AsyncClient):
    """engine.io's client handling each message as it arrives, not in a task of its own: the pages'
    handlers here never wait on the network, and the tasks were a large part of this one core's work
    when every page receives a broadcast at once."""

    async def _trigger_event(self, event: str, *args: Any, run_async: bool = False, **kwargs: Any) -> Any:
        return await super()._trigger_event(event, *args, **kwargs)


class PageSocket(socketio.AsyncClient):
    """A Socket.IO client that waits for a connection as the page's socket.io client does (20 s), on
    reconnection too (python-socketio's reconnection would give up on a busy server after 1 s), and
    offers permessage-deflate as every browser does (the server must not take it: 100 KB each)."""

    def __init__(self) -> None:
        super().__init__(
            reconnection=True,
            reconnection_delay=1,
            reconnection_delay_max=5,
            websocket_extra_options={"compress": 15},
        )
        self.waiting: set[asyncio.Future] = set()  # answers not yet received (see ask)
        self.on("disconnect", self._dropped, namespace="/exam")

    async def connect(self, *args: Any, wait_timeout: float = 20, **kwargs: Any) -> None:
        await super().connect(*args, wait_timeout=wait_timeout, **kwargs)

    async def ask(self, event: str, data: Any, timeout: float) -> Any:
        """An event and its answer, as the page's socket.io client sends one with a timeout: it fails
        at once when the channel drops (python-socketio's own call waits out its timeout)."""
        answer: asyncio.Future = asyncio.get_running_loop().create_future()
        self.waiting.add(answer)

        def answered(*args: Any) -> None:
            if not answer.done():
                answer.set_result(args[0] if args else None)

        try:
            await self.emit(event, data, namespace="/exam", callback=answered)
            return await asyncio.wait_for(answer, timeout)
        finally:
            self.waiting.discard(answer)

    async def _dropped(self, *reason: Any) -> None:
        for answer in self.waiting:
            if not answer.done():
                answer.set_exception(ConnectionError("the live channel dropped"))

    def _engineio_client_class(self) -> type[engineio.AsyncClient]:
        return PageEngine


class Unavailable(Exception):
    """The server did not answer (restarting): keep the answer and try again, as the page does."""


class Candidate:
    def __init__(self, base: str, account: dict, stats: Stats) -> None:
        self.base, self.account, self.stats = base, account, stats
        self.http: aiohttp.ClientSession | None = None
        self.sio = PageSocket()
        self.transports = ["websocket"]  # the pages' first choice; ["polling"] is their fallback
        self.csrf = ""
        self.view: dict[str, Any] = {}
        self.seq: dict[str, int] = {}
        self.pending: list[tuple[str, int, list[str]]] = []  # answers not yet acknowledged, in order
        self.flushing = False
        self.candidate_id = 0
        self.deadline = 0.0  # perf_counter time of this attempt's deadline
        self.connected_at = 0.0  # last (re)connection of the live channel
        self.submitted_at = 0.0  # when the server said it submitted at the deadline
        self.sio.on("notice", self._notice, namespace="/exam")
        self.sio.on("connect", self._connected, namespace="/exam")
        self.sio.on("submitted", self._submitted, namespace="/exam")

    async def _notice(self, data: Any) -> None:
        self.stats.notices += 1
        self.stats.readers.read(self, data["id"])  # the page covers the paper with it until 我已知晓

    async def _connected(self) -> None:
        self.connected_at = time.perf_counter()

    async def _submitted(self, data: Any) -> None:
        if data.get("reason") == "deadline":
            self.submitted_at = time.perf_counter()

    async def call(self, method: str, path: str, body: Any = None) -> dict:
        assert self.http is not None
        headers = {"X-CSRF-Token": self.csrf}
        try:
            async with self.http.request(method, self.base + path, json=body, headers=headers) as response:
                data = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, ValueError) as exc:
            raise Unavailable(type(exc).__name__) from exc
        if response.status >= 500 or data is None:
            raise Unavailable(str(response.status))
        if response.status >= 400:
            raise RuntimeError(f"{response.status} {data.get('error')}")
        return data

    async def send(self, event: str, data: dict, method: str, path: str, body: Any = None) -> dict:
        """As the exam page sends 开始考试, an answer and 交卷: over the live channel while it is up; over
        HTTP when it is down or gives no answer in time."""
        if self.sio.connected:
            try:
                result = await self.sio.ask(event, data, LIVE_TIMEOUT_S)
            except (TimeoutError, ConnectionError, socketio.exceptions.SocketIOError):
                pass
            else:
                if isinstance(result, dict) and "error" in result:
                    if result.get("status", 500) >= 500:
                        raise Unavailable(result["error"])
                    raise RuntimeError(f"{result.get('status')} {result['error']}")
                return result
        return await self.call(method, path, body)

    async def arrive(self, barrier: asyncio.Event) -> None:
        """Check-in at the seat, behind the barrier: log in, load the exam page, read the status (the
        identity page), open the live channel. Then the page waits for the session to open."""
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=60)
        )
        await barrier.wait()
        login = await self.call("POST", "/api/v1/candidate/login", self.account_credentials())
        self.csrf = login["csrf_token"]
        async with self.http.get(self.base + "/exam") as page:
            if page.status != 200:
                raise RuntimeError(f"exam page {page.status}")
            await page.read()
        status = await self.call("GET", "/api/v1/candidate/status")
        await self.sio.connect(
            self.base,
            namespaces=["/exam"],
            auth={"token": status["socket_token"]},
            transports=self.transports,
        )

    async def start(self, barrier: asyncio.Event) -> None:
        """The session opens: the candidate clicks 开始考试 and holds the paper."""
        await barrier.wait()
        await self.begin()

    async def begin(self) -> None:
        started = await self.send("start", {}, "POST", "/api/v1/candidate/attempt/start")
        self.view = json.loads(started["paper"]) if "paper" in started else started
        self.deadline = time.perf_counter() + self.view["remaining_seconds"]

    def account_credentials(self) -> dict:
        return {"ticket": self.account["ticket"], "id_number": self.account["id_number"]}

    def questions(self) -> list[dict]:
        return [q for item in self.view["items"] for q in item.get("questions", [item])]

    async def answer(self, rng: random.Random) -> None:
        """Choose an answer, then send it with every earlier unacknowledged one, in order."""
        q = rng.choice(self.questions())
        options = [o["id"] for o in q["options"]]
        answer = sorted(rng.sample(options, 2)) if q["type"] == "multiple" else [rng.choice(options)]
        self.seq[q["id"]] = self.seq.get(q["id"], 0) + 1
        self.pending.append((q["id"], self.seq[q["id"]], answer))
        await self.flush()

    async def flush(self) -> None:
        if self.flushing:  # one flush at a time, as on the page; it sends what is added meanwhile
            return
        self.flushing = True
        try:
            await self._flush()
        finally:
            self.flushing = False

    async def _flush(self) -> None:
        while self.pending:
            qid, seq, answer = self.pending[0]
            started = time.perf_counter()
            try:
                body = {"answer": answer, "seq": seq}
                path = f"/api/v1/candidate/attempt/responses/{qid}"
                result = await self.send("save", {"question_id": qid, **body}, "PUT", path, body)
            except Unavailable:
                return  # kept; the next answer or the retry loop sends it again
            except Exception as exc:
                self.stats.error(f"save: {exc}"[:60])
                self.pending.pop(0)
                continue
            if self.stats.steady:
                self.stats.save_ms.append((time.perf_counter() - started) * 1000)
                self.stats.save_at.append(started)
            self.pending.pop(0)
            if result["seq"] == seq:
                self.stats.ledger[(self.view["attempt_id"], qid)] = (seq, answer)

    async def signal(self) -> None:
        if not self.sio.connected:
            return
        self.stats.signal_sent[self.candidate_id] = time.perf_counter()
        await self.sio.emit("signal", {"kind": "copy"}, namespace="/exam")

    async def submit(self) -> None:
        await self.flush()
        try:
            await self.send("submit", {}, "POST", "/api/v1/candidate/attempt/submit")
        except Exception as exc:
            self.stats.error(f"submit: {exc}"[:60])

    async def close(self) -> None:
        await self.sio.disconnect()
        if self.http:
            await self.http.close()


async def staff_sign_in(base: str, account: dict) -> tuple[aiohttp.ClientSession, str]:
    """Sign in on the staff login page as a person does: the signed-in HTTP session, and the rooms page
    the login leads to."""
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.get(base + "/staff/login") as r:
        page = await r.text()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"username": account["username"], "password": account["password"], "csrf_token": csrf}
    async with http.post(base + "/staff/login", data=form, allow_redirects=True) as r:
        return http, await r.text()


class Proctor:
    """A proctor's dashboard: signs in, watches one room, times page signals arriving as events."""

    def __init__(self, base: str, account: dict, stats: Stats) -> None:
        self.base, self.account, self.stats = base, account, stats
        self.sio = PageSocket()
        self.http: aiohttp.ClientSession | None = None
        self.room_id = 0
        self.csrf = ""
        self.candidates: dict[str, int] = {}  # ticket -> candidate id
        self.rewatch: asyncio.Future | None = None
        self.sio.on("event", self._event, namespace="/monitor")
        self.sio.on("connect", self._connected, namespace="/monitor")

    async def _event(self, entry: dict) -> None:
        sent = self.stats.signal_sent.pop(entry.get("candidate_id") or -1, None)
        if sent is not None and entry.get("kind") == "copy":
            self.stats.dashboard_ms.append((time.perf_counter() - sent) * 1000)

    async def _connected(self) -> None:
        if self.room_id:  # a reconnection (after the restart): watch the room again, as the dashboard does
            self.rewatch = asyncio.ensure_future(
                self.sio.call("watch", {"room_id": self.room_id}, namespace="/monitor", timeout=60)
            )

    async def watch(self) -> None:
        self.http, rooms_page = await staff_sign_in(self.base, self.account)
        room_id = int(re.search(r"/proctor/rooms/(\d+)", rooms_page).group(1))  # type: ignore[union-attr]
        async with self.http.get(f"{self.base}/proctor/rooms/{room_id}") as r:
            page = await r.text()
        token = re.search(r'data-token="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        self.csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        await self.sio.connect(self.base, namespaces=["/monitor"], auth={"token": token}, transports=["websocket"])
        reply = await self.sio.call("watch", {"room_id": room_id}, namespace="/monitor", timeout=60)
        self.candidates = {t["ticket"]: t["candidate_id"] for t in reply["snapshot"]["tiles"]}
        self.room_id = room_id

    async def admit_room(self) -> None:
        """核验身份 done: the proctor admits the whole room (the dashboard's 全部允许入场)."""
        assert self.http is not None
        headers = {"X-CSRF-Token": self.csrf}
        async with self.http.post(
            f"{self.base}/api/v1/proctor/rooms/{self.room_id}/admit", json={}, headers=headers
        ) as r:
            if r.status != 200:
                self.stats.error(f"admit {r.status}")

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


class ChiefExaminer:
    """The exam administrator (考务管理员): signs in and broadcasts to every room of the batch at once."""

    def __init__(self, base: str, account: dict, stats: Stats) -> None:
        self.base, self.account, self.stats = base, account, stats
        self.http: aiohttp.ClientSession | None = None
        self.csrf = ""
        self.batch_id = 0

    async def sign_in(self) -> None:
        self.http, rooms_page = await staff_sign_in(self.base, self.account)
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', rooms_page).group(1)  # type: ignore[union-attr]
        self.batch_id = int(re.search(r"/proctor/batches/(\d+)/message", rooms_page).group(1))  # type: ignore[union-attr]

    async def broadcast(self, text: str) -> None:
        assert self.http is not None
        url = f"{self.base}/api/v1/proctor/batches/{self.batch_id}/message"
        async with self.http.post(url, json={"text": text}, headers={"X-CSRF-Token": self.csrf}) as r:
            if r.status != 200:
                self.stats.error(f"broadcast {r.status}")

    async def close(self) -> None:
        if self.http:
            await self.http.close()


async def kill_and_restart_server() -> None:
    """Ask bench/run.py, on the other end of stdout/stdin, to kill -9 the server and start it again."""
    print("@kill", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if line.strip() != "@up":
        raise RuntimeError(f"bench/run.py did not restart the server: {line!r}")


async def exam_day(
    base: str, demo: dict, db_url: str, *, interval: tuple[float, float], kill: bool, trace: str | None = None
) -> dict:
    stats = Stats()
    rng = random.Random(1)
    young_collections_only()
    proctors = [
        Proctor(base, s, stats) for s in demo["staff"] if s["role"] == "proctor" and s["username"].endswith("-1")
    ]
    chief = ChiefExaminer(base, next(s for s in demo["staff"] if s["role"] == "admin"), stats)
    await asyncio.gather(chief.sign_in(), *(p.watch() for p in proctors))
    candidates = [Candidate(base, a, stats) for a in demo["candidates"]]
    for p in proctors:
        for c in candidates:
            if c.account["ticket"] in p.candidates:
                c.candidate_id = p.candidates[c.account["ticket"]]

    async def storm(step: Callable[[Candidate, asyncio.Event], Awaitable[None]], who: list[Candidate], name: str):
        """Everyone behind one barrier, then at once: seconds until all are through; who got through."""
        barrier = asyncio.Event()
        tasks = [asyncio.ensure_future(step(c, barrier)) for c in who]
        await asyncio.sleep(0.5)
        started = time.perf_counter()
        barrier.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for r in results:
            if isinstance(r, Exception):
                stats.error(f"{name}: {type(r).__name__} {r}"[:60])
        return time.perf_counter() - started, [
            c for c, r in zip(who, results, strict=True) if not isinstance(r, Exception)
        ]

    # Check-in: every candidate arrives at the same second (the worst case; a centre spreads it over
    # the half hour before the session). Then the proctors admit their rooms, and the session opens:
    # every candidate clicks 开始考试 at once. That is the start storm the targets speak of.
    arrival_storm, arrived = await storm(Candidate.arrive, candidates, "arrive")
    await asyncio.gather(*(p.admit_room() for p in proctors))
    start_storm, present = await storm(Candidate.start, arrived, "start")
    start_failures = len(candidates) - len(present)
    # Every page is set up. From here to the end no collection at all: in one process a collection
    # stops every page at once (20-120 ms every second or two even of the young generations alone,
    # the slowest saves' company), where each browser's own stops only itself. Its peak memory
    # (loadgen_rss_mb) is about the same with or without: 1.0-1.2 GB for 5 000 pages.
    gc.freeze()
    gc.disable()
    if not present:
        raise RuntimeError(f"no candidate got in: {stats.errors}")

    end = min(c.deadline for c in present) - HANDIN_BEFORE_DEADLINE_S
    steady_from = time.perf_counter()
    restart: dict[str, float] = {}
    stats.steady = True

    async def steady(c: Candidate) -> None:  # an answer every interval seconds, page signals now and then
        local = random.Random(rng.random())
        await asyncio.sleep(local.uniform(*interval))  # the first too: the paper arrived, the question is read
        while time.perf_counter() < end:
            await c.answer(local)
            if local.random() < 0.05:
                await c.signal()
            await asyncio.sleep(min(local.uniform(*interval), max(0.0, end - time.perf_counter())))

    async def retry(c: Candidate) -> None:  # the page's retry timer: unacknowledged answers go again
        while time.perf_counter() < end:
            await asyncio.sleep(1)
            if c.pending:
                await c.flush()

    async def kill_midway() -> None:
        await asyncio.sleep(max(0.0, (end - steady_from) * 0.35))
        stats.steady = False
        killed = time.perf_counter()
        await kill_and_restart_server()
        restart["server_s"] = time.perf_counter() - killed
        while time.perf_counter() < end and any(c.connected_at < killed or c.pending for c in present):
            await asyncio.sleep(0.05)
        behind = [c for c in present if c.connected_at < killed or c.pending]
        restart["reattached"] = len(present) - len(behind)
        restart["reattach_s"] = max(c.connected_at for c in present) - killed if not behind else float("inf")
        restart["paused_s"] = time.perf_counter() - killed  # save latencies are not counted meanwhile
        stats.steady = True

    async def broadcast_late() -> dict[str, float]:
        await asyncio.sleep(max(0.0, (end - steady_from) * 0.8))
        while "reattach_s" not in restart and kill:
            await asyncio.sleep(0.1)
        before = stats.notices
        sent, cpu = time.perf_counter(), time.process_time()
        await chief.broadcast("请检查答题卡，考试即将结束")  # 考务广播: one message to every room
        while stats.notices - before < len(present) and time.perf_counter() - sent < 10:
            await asyncio.sleep(0.005)
        took = time.perf_counter() - sent
        # how busy this one-core load generator was meanwhile: near 1, the figure is partly its own
        busy = (time.process_time() - cpu) / took
        return {"s": took, "reached": stats.notices - before, "loadgen_busy": busy, "at": sent}

    async def watch_own_loop() -> None:  # this one process stalling stalls every page: note when it does
        while time.perf_counter() < end:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            if (late := time.perf_counter() - before - 0.01) > 0.05:
                stats.stalls.append((before, late))

    tasks = [watch_own_loop(), *(steady(c) for c in present), *(retry(c) for c in present)]
    extra = await asyncio.gather(broadcast_late(), *([kill_midway()] if kill else []), *tasks)
    broadcast: dict[str, float] = extra[0]  # type: ignore[assignment]  # gather of differently typed tasks
    stats.steady = False

    handing_in, left_to_deadline = present[::2], present[1::2]  # the end: half hand in, the rest run out
    started = time.perf_counter()
    await asyncio.gather(*(c.submit() for c in handing_in))
    handin_s = time.perf_counter() - started
    last_deadline = max(c.deadline for c in left_to_deadline) if left_to_deadline else time.perf_counter()
    while time.perf_counter() < last_deadline + GRACE_S + 30 and any(not c.submitted_at for c in left_to_deadline):
        await asyncio.sleep(0.05)
    lags = [(c.submitted_at or float("inf")) - (c.deadline + GRACE_S) for c in left_to_deadline]
    deadline_lag = max(lags, default=0.0)
    await asyncio.gather(
        *(c.close() for c in candidates), *(p.close() for p in proctors), chief.close(), return_exceptions=True
    )

    if trace:  # seconds since the start storm ended: every counted save with the milliseconds to its
        # acknowledgement, and the broadcast
        Path(trace).write_text(
            json.dumps(
                {
                    "saves": [
                        (round(t - steady_from, 3), round(ms, 1))
                        for t, ms in zip(stats.save_at, stats.save_ms, strict=True)
                    ],
                    "broadcast_at": round(broadcast["at"] - steady_from, 3),
                    "loadgen_stalls": [(round(t - steady_from, 3), round(s * 1000)) for t, s in stats.stalls],
                }
            )
        )
    gc.enable()
    lost, unsubmitted = check_database(db_url, stats.ledger, [c.view["attempt_id"] for c in present])
    return {
        "candidates": len(candidates),
        "present": len(present),
        "saves": len(stats.save_ms),
        "save_p50_ms": round(pct(stats.save_ms, 50), 1),
        "save_p99_ms": round(pct(stats.save_ms, 99), 1),
        "save_p999_ms": round(pct(stats.save_ms, 99.9), 1),
        "save_mean_ms": round(statistics.fmean(stats.save_ms), 1) if stats.save_ms else None,
        "saves_per_s": round(len(stats.save_ms) / max(0.001, end - steady_from - restart.get("paused_s", 0.0)), 1),
        "dashboard_p50_ms": round(pct(stats.dashboard_ms, 50), 1),
        "dashboard_p99_ms": round(pct(stats.dashboard_ms, 99), 1),
        "dashboard_samples": len(stats.dashboard_ms),
        "arrival_storm_s": round(arrival_storm, 2),
        "arrival_failures": len(candidates) - len(arrived),
        "start_storm_s": round(start_storm, 2),
        "start_failures": start_failures,
        "broadcast_s": round(broadcast["s"], 3),
        "broadcast_reached": broadcast["reached"],
        "broadcast_loadgen_busy": round(broadcast["loadgen_busy"], 2),
        "restart_server_s": round(restart.get("server_s", 0.0), 2),
        "restart_reattach_s": round(restart.get("reattach_s", 0.0), 2),
        "restart_reattached": restart.get("reattached", len(present)),
        "handin_s": round(handin_s, 2),
        "deadline_submit_lag_s": round(deadline_lag, 2),
        "end_storm_s": round(max(handin_s, deadline_lag), 2),
        "unsubmitted": unsubmitted,
        "acknowledged": len(stats.ledger),
        "lost": lost,
        "errors": sum(stats.errors.values()),
        "loadgen_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "error_kinds": stats.errors,
    }


def check_database(db_url: str, ledger: dict, attempt_ids: list[int]) -> tuple[int, int]:
    """Every acknowledged answer must be in the database, at that sequence number or a newer one; and
    every attempt must be submitted. Returns (answers lost, attempts not submitted)."""
    engine = sa.create_engine(db_url)
    with engine.connect() as db:
        stored = {
            (a, q): (s, json.loads(ans) if isinstance(ans, str) else ans)
            for a, q, s, ans in db.execute(sa.text("SELECT attempt_id, question_id, seq, answer FROM responses"))
        }
        submitted = {a for (a,) in db.execute(sa.text("SELECT id FROM attempts WHERE submitted_at IS NOT NULL")).all()}
    engine.dispose()
    lost = 0
    for key, (seq, answer) in ledger.items():
        found = stored.get(key)
        if found is None or found[0] < seq or (found[0] == seq and found[1] != answer):
            lost += 1
    return lost, sum(1 for a in attempt_ids if a not in submitted)


def main() -> None:
    parser = argparse.ArgumentParser(description="cbt load generator (see bench/run.py)")
    parser.add_argument("--base", required=True)
    parser.add_argument("--demo", required=True, help="JSON printed by python -m cbt demo --json")
    parser.add_argument("--database-url", required=True, help="the server's database, to check the ledger")
    parser.add_argument("--interval", type=float, nargs=2, default=(20, 60), help="seconds between answers")
    parser.add_argument("--no-kill", action="store_true", help="leave out the kill -9 and restart")
    parser.add_argument("--trace", help="write every save's time and latency to this JSON file")
    args = parser.parse_args()
    demo = json.loads(Path(args.demo).read_text(encoding="utf-8"))
    figures = uvloop.run(
        exam_day(
            args.base, demo, args.database_url, interval=tuple(args.interval), kill=not args.no_kill, trace=args.trace
        )
    )
    print(json.dumps(figures, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
