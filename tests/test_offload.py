"""Blocking work off gevent's hub (cbt/offload.py), in a process patched as gunicorn's gevent worker is."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
from gevent import monkey
monkey.patch_all()
import json, gevent
from werkzeug.security import check_password_hash, generate_password_hash
from cbt.offload import hashing

stored = generate_password_hash("password-123")
ticks = []

def tick():  # another connection's greenlet: runs only while the hub is free
    while True:
        ticks.append(1)
        gevent.sleep(0.001)

ticker = gevent.spawn(tick)
gevent.sleep(0.01)
before = len(ticks)
check_password_hash(stored, "password-123")  # on the hub: nothing else runs meanwhile
on_hub = len(ticks) - before
before = len(ticks)
ok = hashing(check_password_hash, stored, "password-123")
print(json.dumps({"on_hub": on_hub, "off_hub": len(ticks) - before, "ok": ok}))
"""


def test_a_password_check_leaves_the_hub_serving_other_connections():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"] is True
    assert result["on_hub"] == 0, "the check run on the hub holds every greenlet up"
    assert result["off_hub"] >= 5, "checked in the hashing pool, the other greenlets kept running"
