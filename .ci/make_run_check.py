"""Prove the README's first command as a new user meets it (standard library only).

On a fresh clone of this repository (so a clean virtual environment built from requirements.txt
alone), run ``make run`` on a free port, wait for the candidate login page, sign a printed demo
candidate in over the API, stop it; then run it a second time and check that the first printout
still holds (the same batch, the candidate still signs in). Exits non-zero with the log on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = re.compile(r"^\s+(\d{10,})\s+(\d{17}[\dX])\s", re.M)
STARTUP_SECONDS = 900  # the first run builds the virtual environment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except (urllib.error.URLError, OSError):
        return 0


def login(base: str, ticket: str, id_number: str) -> dict:
    body = json.dumps({"ticket": ticket, "id_number": id_number}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/candidate/login", body, {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.load(r)


def serve(clone: Path, port: int, log: Path) -> tuple[subprocess.Popen, str]:
    """``make run`` until the login page answers; returns the process and what it printed."""
    out = log.open("w")
    if listening(port):
        fail(f"port {port} is already taken", log)
    proc = subprocess.Popen(
        ["make", "run", f"PORT={port}"], cwd=clone, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"make run exited with {proc.returncode} before serving", log)
        if get(f"http://127.0.0.1:{port}/") == 200:
            return proc, log.read_text(encoding="utf-8")
        time.sleep(1)
    stop(proc, port)
    fail(f"the login page did not answer within {STARTUP_SECONDS} s", log)
    raise AssertionError  # unreachable


def stop(proc: subprocess.Popen, port: int) -> None:
    """Stop make and gunicorn (one process group), and wait until the port is free again."""
    os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and listening(port):
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def fail(message: str, log: Path) -> None:
    print(f"make run check FAILED: {message}\n--- log ---\n{log.read_text(encoding='utf-8')}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="cbt-make-run-"))
    clone = work / "cbt"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    proc, first = serve(clone, port, work / "run1.log")
    accounts = ACCOUNT.findall(first)
    if not accounts:
        stop(proc, port)
        fail("no demo candidate account was printed", work / "run1.log")
    ticket, id_number = accounts[0]
    try:
        who = login(base, ticket, id_number)
    except (urllib.error.URLError, ValueError) as exc:
        stop(proc, port)
        fail(f"the printed candidate {ticket} could not sign in: {exc}", work / "run1.log")
    stop(proc, port)
    print(f"make run: served in {time.monotonic() - started:.0f} s; {who['candidate']['name']} signed in")

    proc, second = serve(clone, port, work / "run2.log")
    try:
        if "沿用上次创建的演示批次" not in second or ACCOUNT.findall(second) != accounts:
            fail("the second run did not keep the first run's demo batch and accounts", work / "run2.log")
        login(base, ticket, id_number)
    except (urllib.error.URLError, ValueError) as exc:
        fail(f"after the second run the first printout's candidate could not sign in: {exc}", work / "run2.log")
    finally:
        stop(proc, port)
    print("make run twice: the first printout still holds")


if __name__ == "__main__":
    main()
