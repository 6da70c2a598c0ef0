"""Login rate limiting: a sliding window of failures per key (ticket, client address), in memory.

Per process: with several server processes each keeps its own window, so the effective limit is
multiplied by the process count, which still stops guessing (an ID number has ~10^4 plausible tails).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from cbt.core.errors import CbtError, TooManyRequests

T = TypeVar("T")


class FailureLimiter:
    def __init__(self, limit: int, window: timedelta, now: Callable[[], datetime]) -> None:
        self.limit, self.window, self._now = limit, window, now
        self._failures: dict[str, deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[datetime]:
        times = self._failures[key]
        cutoff = self._now() - self.window
        while times and times[0] < cutoff:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        with self._lock:
            return any(len(self._recent(k)) >= self.limit for k in keys)

    def fail(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._recent(k).append(self._now())

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def guard(self, account: str, address: str, sign_in: Callable[[], T]) -> T:
        """Run a sign-in unless the account or the address failed too often; count its failure."""
        if self.blocked(account, address):
            raise TooManyRequests("登录失败次数过多，请 5 分钟后再试，或举手联系监考员")
        try:
            result = sign_in()
        except CbtError as exc:
            if exc.code == "invalid_credentials":
                self.fail(account, address)
            raise
        self.clear(account)
        return result
