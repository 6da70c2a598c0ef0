"""Blocking work off gevent's hub.

Under gevent's worker (production) every connection is served by one native thread, the hub's. Work
that holds that thread in C for milliseconds (a batch's commit and fsync, a password hash) runs in a
native thread instead, and the hub goes on serving meanwhile; without gevent it simply runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

HASHING_THREADS = 2  # password checks: a pool of their own, so proctors signing in never keep the writer waiting
_hashing: Any = None
_hashing_lock = threading.Lock()


def _gevent_hub() -> Any:
    try:
        from gevent import get_hub, monkey
    except ImportError:
        return None
    return get_hub() if monkey.is_module_patched("threading") else None


def off_the_hub(work: Callable[..., T], *args: Any) -> T:
    """Run ``work`` in a native thread of gevent's pool (the writer's batches)."""
    hub = _gevent_hub()
    return work(*args) if hub is None else hub.threadpool.apply(work, args)


def hashing(work: Callable[..., T], *args: Any) -> T:
    """Run a password hash or check (100 ms of scrypt, the GIL released) in the hashing pool: a
    room of proctors signing in at once held every candidate's connection up for seconds."""
    global _hashing
    if _gevent_hub() is None:
        return work(*args)
    if _hashing is None:
        from gevent.threadpool import ThreadPool

        with _hashing_lock:
            _hashing = _hashing or ThreadPool(HASHING_THREADS)
    return _hashing.apply(work, args)
