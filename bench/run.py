"""`make bench-smoke`: the product as it really runs (gunicorn, embedded SQLite), loaded by bench/loadgen.py.

The server is pinned to CPU 0 and the load generator to CPU 1. Prints the figures as one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def pinned(cpu: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv] if (os.cpu_count() or 1) > 1 else argv


def sqlite_commit_rate(folder: Path, seconds: float = 2.0, batch: int = 1) -> float:
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


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def worker_pids(master: int) -> list[int]:
    """gunicorn's worker processes (children of the master)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in children]


class MemoryWatch(threading.Thread):
    """Samples the server's resident memory: idle before the load, peak during it."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master, self.peak, self.stop = master, 0, threading.Event()
        self.idle = self.sample()

    def sample(self) -> int:
        return sum(rss_kb(p) for p in [self.master, *worker_pids(self.master)])

    def run(self) -> None:
        while not self.stop.wait(0.25):
            self.peak = max(self.peak, self.sample())


def server_args(worker: str, port: int, threads: int) -> list[str]:
    """The production command line: one process; gthread sized in threads, gevent in connections."""
    common = ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--backlog", "4096", "--no-control-socket"]
    if worker == "gevent":
        return [*common, "--worker-class", "gevent", "--worker-connections", "20000"]
    return [*common, "--threads", str(threads), "--worker-connections", str(4 * threads)]


def main() -> None:
    parser = argparse.ArgumentParser(description="cbt benchmark: a compressed exam day against a real server")
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--steady", type=float, default=20, help="seconds of steady answering")
    parser.add_argument("--threads", type=int, default=0, help="gunicorn threads (default: 2 per candidate + 64)")
    parser.add_argument("--worker", choices=["gthread", "gevent"], default="gthread", help="gunicorn worker class")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cbt-bench-"))
    db = work / "bench.db"
    env = {
        **os.environ,
        "CBT_INSTANCE_PATH": str(work),
        "CBT_DATABASE_URL": f"sqlite:///{db}",
        "CBT_SECRET_KEY": "bench",
    }
    demo = subprocess.run(
        [sys.executable, "-m", "cbt", "demo", "--json", "--candidates", str(args.candidates), "--minutes", "30"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (work / "demo.json").write_text(demo, encoding="utf-8")
    port = 18000 + os.getpid() % 1000
    threads = args.threads or 2 * args.candidates + 64
    log = open(work / "gunicorn.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        pinned(0, [str(BIN / "gunicorn"), *server_args(args.worker, port, threads), "wsgi:app"]),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1)  # let the worker finish importing before the idle sample
        memory = MemoryWatch(server.pid)
        memory.start()
        result = subprocess.run(
            pinned(
                1,
                [
                    sys.executable,
                    "-m",
                    "bench.loadgen",
                    "--base",
                    f"http://127.0.0.1:{port}",
                    "--demo",
                    str(work / "demo.json"),
                    "--db",
                    str(db),
                    "--steady",
                    str(args.steady),
                ],
            ),
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        sys.stderr.write(result.stderr[-3000:])
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        memory.stop.set()
        figures["server_rss_idle_mb"] = round(memory.idle / 1024, 1)
        figures["server_rss_peak_mb"] = round(memory.peak / 1024, 1)
        figures["memory_per_candidate_kb"] = round((memory.peak - memory.idle) / max(1, args.candidates), 1)
        figures["server"] = f"gunicorn {args.worker}" + (f", {threads} threads" if args.worker == "gthread" else "")
        single, batched = sqlite_commit_rate(work), sqlite_commit_rate(work, batch=100)
        saves_per_s = figures["saves"] / args.steady
        figures["machine_commits_per_s"] = round(single)
        figures["machine_rows_per_s_batched"] = round(batched)
        figures["saves_per_s"] = round(saves_per_s, 1)
        figures["saves_vs_single_commit_limit"] = round(saves_per_s / single, 3)
        print(json.dumps(figures, ensure_ascii=False))
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        log.close()


if __name__ == "__main__":
    main()
