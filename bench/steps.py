"""`make bench-steps`: what each step of a candidate's day costs the server, one step at a time.

The real server (gunicorn.conf.py, pinned to CPU 0) on a fresh database; the candidates (bench/loadgen.py,
on CPU 1) take each step all at once: log in, load the exam page, read the status, open the live
channel, start and receive the paper; then the exam administrator broadcasts to every room; then each
candidate acknowledges the message, saves one answer, and hands in. For each step it prints the
server's CPU time per candidate (from /proc) beside the load generator's own, and the server's
resident memory per candidate once every candidate holds its HTTP keep-alive connection, and again
with the live channel open. The figures that guided the start-storm work in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import uvloop

from bench.loadgen import Candidate, ChiefExaminer, Stats, young_collections_only
from bench.run import Server, demo_batch, process_tree, process_tree_rss_kb, raise_open_files_limit


def server_cpu_s(master: int) -> float:
    """User + system CPU seconds of gunicorn's master and its workers."""
    total = 0
    for pid in process_tree(master):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def login(c: Candidate) -> None:
    c.csrf = (await c.call("POST", "/api/v1/candidate/login", c.account_credentials()))["csrf_token"]


async def page(c: Candidate) -> None:
    assert c.http is not None
    async with c.http.get(c.base + "/exam") as response:
        await response.read()


async def status(c: Candidate) -> None:
    c.view = await c.call("GET", "/api/v1/candidate/status")


async def connect(c: Candidate) -> None:
    await c.sio.connect(c.base, namespaces=["/exam"], auth={"token": c.view["socket_token"]}, transports=["websocket"])


async def start(c: Candidate) -> None:
    await c.begin()


async def acknowledge(c: Candidate) -> None:
    """The broadcast's receipt: the candidate reads the message (2-8 s) and clicks 我已知晓."""
    await c.stats.readers.finished()


async def answer(c: Candidate) -> None:
    await c.answer(random.Random(c.account["ticket"]))


async def hand_in(c: Candidate) -> None:
    await c.submit()


STEPS = [("login", login), ("exam page", page), ("status", status), ("connect", connect), ("start", start)]
END_STEPS = [("acknowledge", acknowledge), ("answer", answer), ("hand in", hand_in)]  # after the broadcast


async def measure(count: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"cbt-steps-{count}-"))
    env = {**os.environ, "CBT_INSTANCE_PATH": str(work), "CBT_SECRET_KEY": "bench"}
    env["CBT_DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"
    demo = demo_batch(env, count, 30, work / "demo.json", admission=False)
    server = Server(env, 1, work / "gunicorn.log")
    server.start()
    try:
        time.sleep(1)
        assert server.process is not None
        pid = server.process.pid
        stats = Stats()
        young_collections_only()
        candidates = [Candidate(server.url, account, stats) for account in demo["candidates"]]
        for c in candidates:
            c.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        idle = process_tree_rss_kb(pid)
        figures: dict = {"candidates": count, "server_cpu_ms": {}, "loadgen_cpu_ms": {}, "wall_s": {}}

        async def take(name: str, step: Callable[[Candidate], Awaitable[None]]) -> None:
            cpu, own, wall = server_cpu_s(pid), time.process_time(), time.perf_counter()
            await asyncio.gather(*(step(c) for c in candidates))
            await asyncio.sleep(0.6)  # the coalesced dashboard updates the step caused
            figures["server_cpu_ms"][name] = round((server_cpu_s(pid) - cpu) * 1000 / count, 2)
            figures["loadgen_cpu_ms"][name] = round((time.process_time() - own) * 1000 / count, 2)
            figures["wall_s"][name] = round(time.perf_counter() - wall - 0.6, 2)
            if name in ("status", "connect"):
                key = "memory_http_kb" if name == "status" else "memory_http_and_socket_kb"
                figures[key] = round((process_tree_rss_kb(pid) - idle) / count, 1)
            print(
                f"{name:>10}: server {figures['server_cpu_ms'][name]:5.2f} ms CPU per candidate, "
                f"load generator {figures['loadgen_cpu_ms'][name]:5.2f} ms, {figures['wall_s'][name]:5.2f} s"
            )

        for name, step in STEPS:
            await take(name, step)
        figures["server_cpu_ms_arrival_and_start"] = round(sum(figures["server_cpu_ms"].values()), 2)
        figures.update(await broadcast(demo, server.url, pid, stats, count))
        for name, step in END_STEPS:
            await take(name, step)
        await asyncio.gather(*(c.close() for c in candidates))
        return figures
    finally:
        server.close()


async def broadcast(demo: dict, url: str, pid: int, stats: Stats, count: int) -> dict:
    """The exam administrator broadcasts to every room at once, to a quiet server: seconds until every
    candidate has it."""
    chief = ChiefExaminer(url, next(s for s in demo["staff"] if s["role"] == "admin"), stats)
    await chief.sign_in()
    await asyncio.sleep(1)
    print("  broadcasting", flush=True)
    before, cpu, own, wall = stats.notices, server_cpu_s(pid), time.process_time(), time.perf_counter()
    await chief.broadcast("请检查答题卡")
    posted = time.perf_counter() - wall  # the administrator's request answered (the messages are committed)
    while stats.notices - before < count and time.perf_counter() - wall < 30:
        await asyncio.sleep(0.005)
    took = time.perf_counter() - wall
    server_ms, own_ms = (server_cpu_s(pid) - cpu) * 1000, (time.process_time() - own) * 1000
    print(
        f" broadcast: {stats.notices - before} candidates reached in {took:.3f} s (the request answered by "
        f"{posted:.3f} s), server {server_ms:.0f} ms CPU, load generator {own_ms:.0f} ms"
    )
    await chief.close()
    return {
        "broadcast_s": round(took, 3),
        "broadcast_reached": stats.notices - before,
        "broadcast_server_cpu_ms": round(server_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="server CPU and memory per candidate, step by step")
    parser.add_argument("--candidates", type=int, default=1000)
    args = parser.parse_args()
    raise_open_files_limit()
    print(json.dumps(uvloop.run(measure(args.candidates)), ensure_ascii=False))


if __name__ == "__main__":
    main()
