"""Login rate limiting: a sliding window of failures per key (ticket, client address).

In memory for one server process (the embedded default). Several processes (scale-out) count in the
Redis they already share for Socket.IO, so a guesser spreading attempts over the processes meets
the same limit; if Redis cannot be reached, each process falls back to its own window (logged).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cbt.core.errors import CbtError, TooManyRequests

log = logging.getLogger(__name__)
T = TypeVar("T")


class FailureLimiter:
    def __init__(self, limit: int, window: timedelta, now: Callable[[], datetime]) -> None:
        self.limit, self.window, self._now = limit, window, now
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[datetime]:
        """The key's failures within the window; a key with none left is forgotten (every client
        address that ever signed in would otherwise stay, empty, for the life of the process)."""
        times = self._failures.get(key, deque())
        cutoff = self._now() - self.window
        while times and times[0] < cutoff:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def blocked(self, *keys: str) -> bool:
        with self._lock:
            return any(len(self._recent(k)) >= self.limit for k in keys)

    def fail(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures[k] = self._recent(k)
                self._failures[k].append(self._now())

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


class SharedFailureLimiter(FailureLimiter):
    """The same window in Redis (a sorted set of failure times per key), shared by every process."""

    PREFIX = "cbt:login-failures:"

    def __init__(self, limit: int, window: timedelta, now: Callable[[], datetime], redis_url: str) -> None:
        import redis

        super().__init__(limit, window, now)
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._unreachable = redis.RedisError

    def _pipeline(self, commands: Callable[[Any], object]) -> list[Any] | None:
        """Run ``commands`` on a Redis pipeline: its replies, or None if Redis cannot be reached."""
        try:
            pipe = self._redis.pipeline()
            commands(pipe)
            return pipe.execute()
        except self._unreachable as exc:
            log.warning("login failures: Redis unreachable (%s); this process counts alone", exc)
            return None

    def blocked(self, *keys: str) -> bool:
        cutoff = (self._now() - self.window).timestamp()

        def count(pipe: Any) -> None:
            for k in keys:
                pipe.zremrangebyscore(self.PREFIX + k, "-inf", cutoff)
                pipe.zcard(self.PREFIX + k)

        replies = self._pipeline(count)
        if replies is None:
            return super().blocked(*keys)
        return any(n >= self.limit for n in replies[1::2])

    def fail(self, *keys: str) -> None:
        super().fail(*keys)  # the fallback's window stays current
        at = self._now().timestamp()

        def add(pipe: Any) -> None:
            for k in keys:
                pipe.zadd(self.PREFIX + k, {f"{at}:{secrets.token_hex(4)}": at})
                pipe.expire(self.PREFIX + k, int(self.window.total_seconds()) + 1)

        self._pipeline(add)

    def clear(self, key: str) -> None:
        super().clear(key)
        self._pipeline(lambda pipe: pipe.delete(self.PREFIX + key))
