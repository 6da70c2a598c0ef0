"""`make bench` and `make bench-smoke`: the product as it really runs, loaded by bench/loadgen.py.

The server starts as production starts it (gunicorn's gevent worker; the embedded SQLite database,
or with ``--mode scaleout`` PostgreSQL and Redis started here and two worker processes). The server
is pinned to CPU 0 and the load generator to CPU 1. Each count of candidates gets a fresh database
and a whole compressed exam (see bench/loadgen.py), including a kill -9 of the server and its
restart. The figures are checked against the targets of the performance issue; the ramp reports the
largest count that met every one. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.support.postgres import PostgresServer, free_port  # noqa: E402
from tests.support.redis import RedisServer  # noqa: E402

# figure -> (limit, "max" | "min"): the performance issue's targets
TARGETS = {
    "save_p50_ms": 10,
    "save_p99_ms": 100,
    "save_p999_ms": 250,
    "dashboard_p99_ms": 250,
    "start_storm_s": 10,
    "start_failures": 0,
    "end_storm_s": 5,
    "unsubmitted": 0,
    "broadcast_s": 0.5,
    "restart_reattach_s": 30,
    "lost": 0,
    "errors": 0,
    "memory_per_candidate_kb": 100,
}


def missed(figures: dict) -> list[str]:
    """The targets these figures miss, as readable strings (empty: every target met)."""
    out = [
        f"{name} {figures[name]} > {limit}"
        for name, limit in TARGETS.items()
        if not isinstance(figures.get(name), (int, float)) or math.isnan(figures[name]) or figures[name] > limit
    ]
    if figures.get("broadcast_reached", 0) < figures.get("present", 0):
        out.append(f"broadcast reached {figures['broadcast_reached']} of {figures['present']}")
    return out


def pinned(cpu: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv] if (os.cpu_count() or 1) > 1 else argv


def sqlite_commit_rate(folder: Path, seconds: float, batch: int = 1) -> float:
    """The machine's own limit: durable (WAL, synchronous=FULL) SQLite commits of ``batch`` rows, rows per second."""
    import sqlite3

    path = folder / f"commit-rate-{batch}.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    rows, end = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < end:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO t (v) VALUES (?)", [("x" * 40,)] * batch)
        db.execute("COMMIT")
        rows += batch
    rate = rows / (time.perf_counter() - started)
    db.close()
    return rate


def process_tree(master: int) -> list[int]:
    """gunicorn's master and its workers."""
    try:
        return [master, *map(int, Path(f"/proc/{master}/task/{master}/children").read_text().split())]
    except OSError:
        return [master]


def process_tree_rss_kb(master: int) -> int:
    """Resident memory of gunicorn's master and its workers."""
    total = 0
    for pid in process_tree(master):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class MemoryWatch(threading.Thread):
    """Samples the server's resident memory every 0.25 s: idle before the load, peak during it."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master, self.peak, self.stop = master, 0, threading.Event()
        self.idle = process_tree_rss_kb(master)

    def run(self) -> None:
        while not self.stop.wait(0.25):
            self.peak = max(self.peak, process_tree_rss_kb(self.master))


class Server:
    """gunicorn as production runs it (gunicorn.conf.py): one process, two in scale-out."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.env, self.workers, self.port = env, workers, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "ab")  # noqa: SIM115 (kept open while the server runs)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers), "wsgi:app"]
        self.process = subprocess.Popen(
            pinned(0, argv), cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log, start_new_session=True
        )
        for _ in range(600):
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the server did not come up; see gunicorn.log")

    def kill9(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def close(self) -> None:
        self.kill9()
        self.log.close()


def raise_open_files_limit() -> None:
    """Thousands of sockets on each side: lift the soft limit to the hard one (inherited by the children)."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def demo_batch(env: dict[str, str], count: int, minutes: float, path: Path, admission: bool = True) -> dict:
    """A fresh demo batch of ``count`` candidates (python -m cbt demo), saved at ``path``."""
    demo = subprocess.run(
        [
            *(sys.executable, "-m", "cbt", "demo", "--json", *(["--admission"] if admission else [])),
            *("--candidates", str(count), "--minutes", f"{minutes:.3f}"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if demo.returncode != 0:
        raise RuntimeError(f"python -m cbt demo failed: {demo.stderr[-2000:]}")
    path.write_text(demo.stdout, encoding="utf-8")
    return json.loads(demo.stdout)


def run_exam(count: int, args: argparse.Namespace) -> dict:
    """One whole compressed exam for ``count`` candidates on a fresh database; its figures."""
    work = Path(tempfile.mkdtemp(prefix=f"cbt-bench-{count}-"))
    with ExitStack() as stack:
        env = {**os.environ, "CBT_INSTANCE_PATH": str(work), "CBT_SECRET_KEY": "bench"}
        if args.mode == "scaleout":
            postgres = PostgresServer(durable=True)
            env["CBT_DATABASE_URL"] = postgres.start()
            stack.callback(postgres.stop)
            redis = RedisServer()
            env["CBT_MESSAGE_QUEUE"] = redis.url
            stack.callback(redis.stop)
        else:
            env["CBT_DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"
        minutes = (args.exam_seconds + count / 200) / 60  # the start storm comes out of the exam's time
        demo_batch(env, count, minutes, work / "demo.json")
        server = Server(env, 2 if args.mode == "scaleout" else 1, work / "gunicorn.log")
        stack.callback(server.close)
        server.start()
        time.sleep(1)  # let the worker finish importing before the idle sample
        assert server.process is not None
        memory = MemoryWatch(server.process.pid)
        memory.start()
        stack.callback(memory.stop.set)
        loadgen = subprocess.Popen(
            pinned(
                1,
                [
                    sys.executable,
                    *("-m", "bench.loadgen", "--base", server.url, "--demo", str(work / "demo.json")),
                    *("--database-url", env["CBT_DATABASE_URL"], "--interval", *map(str, args.interval)),
                    *("--trace", str(work / "saves.json")),
                ],
            ),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(work / "loadgen.log", "wb"),  # noqa: SIM115
            text=True,
        )
        stack.callback(loadgen.kill)
        assert loadgen.stdout is not None and loadgen.stdin is not None
        lines, connected = [], 0
        for line in loadgen.stdout:
            if line.strip() == "@kill":  # kill -9 mid-exam, then restart as an operator would
                memory.stop.set()
                connected = process_tree_rss_kb(server.process.pid)  # everyone connected and answering
                server.kill9()
                server.start()
                loadgen.stdin.write("@up\n")
                loadgen.stdin.flush()
            else:
                lines.append(line)
        loadgen.wait()
        if loadgen.returncode != 0 or not lines:
            raise RuntimeError(f"the load generator failed; see {work / 'loadgen.log'}")
        figures = json.loads(lines[-1])
        figures["server_rss_idle_mb"] = round(memory.idle / 1024, 1)
        figures["server_rss_peak_mb"] = round(memory.peak / 1024, 1)
        figures["server_rss_connected_mb"] = round(connected / 1024, 1)
        figures["memory_per_candidate_kb"] = round((connected - memory.idle) / max(1, figures["present"]), 1)
        figures["memory_per_candidate_peak_kb"] = round((memory.peak - memory.idle) / max(1, figures["present"]), 1)
        figures["server"] = f"gunicorn gevent, {server.workers} process(es), " + (
            "PostgreSQL + Redis" if args.mode == "scaleout" else "SQLite"
        )
        figures["work"] = str(work)
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="cbt benchmark: compressed exam days against the real server")
    parser.add_argument("--candidates", type=int, nargs="+", default=[1000, 2000, 5000, 10000], help="the ramp")
    parser.add_argument("--exam-seconds", type=float, default=150, help="compressed length of the exam")
    parser.add_argument("--interval", type=float, nargs=2, default=(20, 60), help="seconds between answers")
    parser.add_argument("--mode", choices=["embedded", "scaleout"], default=os.environ.get("BENCH_MODE", "embedded"))
    parser.add_argument("--keep-going", action="store_true", help="go on up the ramp after a count misses a target")
    parser.add_argument("--commit-seconds", type=float, default=2, help="how long to measure the machine's limit")
    args = parser.parse_args()
    raise_open_files_limit()
    with tempfile.TemporaryDirectory() as folder:
        single = sqlite_commit_rate(Path(folder), args.commit_seconds)
        batched = sqlite_commit_rate(Path(folder), args.commit_seconds, batch=100)
    print(f"machine: {single:,.0f} durable single-row SQLite commits/s, {batched:,.0f} rows/s in batches of 100")
    runs, largest = [], 0
    for count in args.candidates:
        figures = run_exam(count, args)
        figures["saves_vs_single_commit_limit"] = round(figures["saves_per_s"] / single, 4)
        figures["missed"] = missed(figures)
        runs.append(figures)
        print(json.dumps(figures, ensure_ascii=False), flush=True)
        if not figures["missed"]:
            largest = count
        elif not args.keep_going:
            break
    summary = {**runs[-1], "mode": args.mode, "largest_passing": largest}
    summary["machine_commits_per_s"] = round(single)
    summary["machine_rows_per_s_batched"] = round(batched)
    summary["ramp"] = {r["candidates"]: r["missed"] or "all targets met" for r in runs}
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
