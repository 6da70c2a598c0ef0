"""Login rate limiting: a sliding window of tries per key (a ticket or username, a client address).

A try of an account (a ticket, a username) is counted *before* it is evaluated (reserved): under any
concurrency at most ``limit`` tries of one account are ever checked in a window, and a burst of
guesses is refused before it reaches the writer or the password hash. A try that signs in clears the
account's window; one that fails on something other than the credentials (a bad request, a busy
server) gives its reservation back; a wrong ticket/ID or password keeps it, as a failure. A client
address counts only failures (checked before, added after): a whole centre behind one NAT signing in
at the same second is not a burst of tries, and each account it guesses meets its own limit anyway.

In memory for one server process (the embedded default). Several processes (scale-out) count in the
Redis they already share for Socket.IO, reserving in one atomic script, so a guesser spreading tries
over the processes meets the same limit; if Redis cannot be reached, each process falls back to its
own window (logged).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cbt.core.errors import CbtError, TooManyRequests
from cbt.core.text import N_

log = logging.getLogger(__name__)
T = TypeVar("T")
Limit = tuple[str, int]  # (key, tries allowed in the window)

WINDOW = timedelta(minutes=5)
ACCOUNT_TRIES = 5  # wrong tries per ticket or username in the window
ADDRESS_TRIES = 50  # per client address and kind: well above one person's, a NAT or proxy serves a room
CANDIDATE_LOCKED = N_("登录失败次数过多，已暂时锁定。请举手，由监考员核对证件后解除锁定；或 5 分钟后再试")
STAFF_LOCKED = N_("登录失败次数过多，请 5 分钟后再试；忘记密码请联系考务管理员重置")


class FailureLimiter:
    def __init__(self, window: timedelta, now: Callable[[], datetime]) -> None:
        self.window, self._now = window, now
        self._tries: dict[str, dict[str, datetime]] = {}  # key -> {try token: when}
        self._lock = threading.Lock()
        self._swept = now()

    def _recent(self, key: str) -> dict[str, datetime]:
        """The key's tries within the window; a key with none left is forgotten (every client
        address that ever signed in would otherwise stay, empty, for the life of the process)."""
        tries = self._tries.get(key, {})
        cutoff = self._now() - self.window
        for token in [t for t, at in tries.items() if at < cutoff]:
            del tries[token]
        if not tries:
            self._tries.pop(key, None)
        return tries

    def reserve(self, counted: Sequence[Limit], checked: Sequence[Limit] = ()) -> str | None:
        """Count one try against the ``counted`` keys, or none if any key (of both) is at its limit (None)."""
        with self._lock:
            if self._now() - self._swept > self.window:  # keys never tried again are forgotten too
                self._swept = self._now()
                for key in list(self._tries):
                    self._recent(key)
            if any(len(self._recent(key)) >= limit for key, limit in (*counted, *checked)):
                return None
            token = secrets.token_hex(8)
            for key, _ in counted:
                self._add(key, token)
            return token

    def _add(self, key: str, token: str) -> None:
        self._tries.setdefault(key, self._recent(key))[token] = self._now()

    def fail(self, token: str, key: str) -> None:
        """A failure to count against ``key`` after the try (a client address)."""
        with self._lock:
            self._add(key, token)

    def release(self, token: str, *keys: str) -> None:
        """Give a reserved try back: it was not a failure."""
        with self._lock:
            for key in keys:
                tries = self._recent(key)
                tries.pop(token, None)
                if not tries:
                    self._tries.pop(key, None)

    def blocked(self, key: str, limit: int) -> bool:
        with self._lock:
            return len(self._recent(key)) >= limit

    def clear(self, key: str) -> None:
        with self._lock:
            self._tries.pop(key, None)

    def guard(self, account: Limit, address: Limit, sign_in: Callable[[], T], locked: str) -> T:
        """Run a sign-in if neither the account nor the address is at its limit, counting it first.

        ``locked`` is the message for the person refused (what to do now).
        """
        token = self.reserve((account,), (address,))
        if token is None:
            raise TooManyRequests(locked)
        try:
            result = sign_in()
        except CbtError as exc:
            if exc.code == "invalid_credentials":
                self.fail(token, address[0])
            else:
                self.release(token, account[0])
            raise
        except BaseException:
            self.release(token, account[0])
            raise
        self.clear(account[0])
        return result

    # The platform's two sign-ins, with separate address keys: a room of candidates behind one NAT
    # or proxy never locks out its proctors, nor the other way round.

    def candidate(self, ticket: str, address: str | None, sign_in: Callable[[], T]) -> T:
        account, at = (f"ticket:{ticket}", ACCOUNT_TRIES), (f"candidate-ip:{address}", ADDRESS_TRIES)
        return self.guard(account, at, sign_in, CANDIDATE_LOCKED)

    def staff(self, username: str, address: str | None, sign_in: Callable[[], T]) -> T:
        account, at = (f"staff:{username}", ACCOUNT_TRIES), (f"staff-ip:{address}", ADDRESS_TRIES)
        return self.guard(account, at, sign_in, STAFF_LOCKED)

    def ticket_locked(self, ticket: str) -> bool:
        return self.blocked(f"ticket:{ticket}", ACCOUNT_TRIES)

    def unlock_ticket(self, ticket: str) -> bool:
        """Lift a candidate's lockout (a proctor has checked the person); whether it was locked."""
        locked = self.ticket_locked(ticket)
        self.clear(f"ticket:{ticket}")
        return locked


# Atomically: drop tries older than the window, refuse if any key is at its limit, else add the try
# to the first ARGV[5] keys (the counted ones). KEYS: the keys; ARGV: cutoff, now, token, ttl seconds,
# how many keys are counted, then one limit per key.
_RESERVE = """
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  if redis.call('ZCARD', key) >= tonumber(ARGV[5 + i]) then return 0 end
end
for i = 1, tonumber(ARGV[5]) do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
  redis.call('EXPIRE', KEYS[i], ARGV[4])
end
return 1
"""


class SharedFailureLimiter(FailureLimiter):
    """The same window in Redis (a sorted set of try times per key), shared by every process."""

    PREFIX = "cbt:login-tries:"

    def __init__(self, window: timedelta, now: Callable[[], datetime], redis_url: str) -> None:
        import redis

        super().__init__(window, now)
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._redis.register_script(_RESERVE)
        self._unreachable = redis.RedisError

    def _shared(self, command: Callable[[], Any]) -> tuple[bool, Any]:
        """Run ``command`` on Redis: (True, its reply), or (False, None) if Redis cannot be reached."""
        try:
            return True, command()
        except self._unreachable as exc:
            log.warning("login tries: Redis unreachable (%s); this process counts alone", exc)
            return False, None

    def reserve(self, counted: Sequence[Limit], checked: Sequence[Limit] = ()) -> str | None:
        now, token, limits = self._now(), secrets.token_hex(8), (*counted, *checked)
        ttl = int(self.window.total_seconds()) + 1
        args: list[str | int | float] = [
            (now - self.window).timestamp(),
            now.timestamp(),
            token,
            ttl,
            len(counted),
            *(n for _, n in limits),
        ]
        ok, reply = self._shared(lambda: self._script(keys=[self.PREFIX + k for k, _ in limits], args=args))
        if not ok:
            return super().reserve(counted, checked)
        return token if reply == 1 else None

    def fail(self, token: str, key: str) -> None:
        super().fail(token, key)  # the fallback's window stays current
        at, ttl = self._now().timestamp(), int(self.window.total_seconds()) + 1

        def add() -> None:
            pipe = self._redis.pipeline()
            pipe.zadd(self.PREFIX + key, {token: at})
            pipe.expire(self.PREFIX + key, ttl)
            pipe.execute()

        self._shared(add)

    def release(self, token: str, *keys: str) -> None:
        super().release(token, *keys)  # a try the fallback counted while Redis was away

        def remove() -> None:
            pipe = self._redis.pipeline()
            for key in keys:
                pipe.zrem(self.PREFIX + key, token)
            pipe.execute()

        self._shared(remove)

    def blocked(self, key: str, limit: int) -> bool:
        cutoff = (self._now() - self.window).timestamp()
        ok, count = self._shared(lambda: self._redis.zcount(self.PREFIX + key, f"({cutoff}", "+inf"))
        return super().blocked(key, limit) if not ok else count >= limit

    def clear(self, key: str) -> None:
        super().clear(key)
        self._shared(lambda: self._redis.delete(self.PREFIX + key))
