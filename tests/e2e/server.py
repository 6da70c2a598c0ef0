"""A real gunicorn server for end-to-end tests, started the way production starts it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cbt.config import PROJECT_ROOT
from tests.support.postgres import free_port

BIN = Path(sys.executable).parent


class Server:
    def __init__(self, root: Path, *, db_path: Path | None = None, database_url: str | None = None, **env: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.db_path = db_path or root / "e2e.db"
        self.env = {
            **os.environ,
            "CBT_INSTANCE_PATH": str(root / "instance"),
            "CBT_DATABASE_URL": database_url or f"sqlite:///{self.db_path}",
            "CBT_SECRET_KEY": "e2e-secret",
            **env,
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(root / "gunicorn.log", "ab")  # noqa: SIM115 (kept open while the server runs)
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "cbt", *args], cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"python -m cbt {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result.stdout

    def demo(self, candidates: int = 3, minutes: float = 90, admission: bool = False) -> dict:
        args = ["demo", "--json", "--candidates", str(candidates), "--minutes", str(minutes)]
        return json.loads(self.cli(*args, *(["--admission"] if admission else [])))

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                *("--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "3", "wsgi:app"),
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,  # its own process group: kill -9 reaches master and worker
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not come up; see gunicorn.log")

    def kill9(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=8)
            except subprocess.TimeoutExpired:  # open WebSockets can hold a graceful stop
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            self.process = None
        self.log.close()


@contextmanager
def one_server(root: Path, **env: str) -> Iterator[Server]:
    """A server process on a fresh, initialised database."""
    server = Server(root, **env)
    server.cli("init")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def two_servers(root: Path, candidates: int, **settings: Any) -> Iterator[tuple[Server, Server, dict]]:
    """Two server processes on one database (initialised, with a demo batch), both with ``settings``."""
    a, b = Server(root / "a", **settings), Server(root / "b", **settings)
    a.cli("init")
    demo = a.demo(candidates=candidates)
    try:
        a.start()
        b.start()
        yield a, b, demo
    finally:
        a.stop()
        b.stop()
