"""One writer with group commit: the write path of the exam.

Every state-changing use case of a running exam (save an answer, start, submit, expire) is handed to
a single writer thread as a job. The writer takes every job waiting, runs each in its own SAVEPOINT
(a failing job rolls back alone), commits the batch once, and only then answers each caller: an
acknowledged answer is a committed answer. On SQLite this keeps to one writer (no lock contention)
and spreads the cost of the durable commit over the batch; on PostgreSQL it is the same code, one
writer per server process.

The loop runs in a native thread, under gevent too (a thread of gevent's own pool), so a commit's
fsync, or a lock held by another process, never stalls the thousands of connections the hub is
serving; and the next batch starts as soon as the last one is committed, however busy the hub is
(a loop on the hub waited 100-500 ms between batches in a storm; docs/performance.md). Callers
under gevent wait on gevent's AsyncResult, which a native thread may set.
"""

from __future__ import annotations

import _queue
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from cbt.core.errors import Busy

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 64  # a flood of receipts or logins commits in slices, not ahead of every save behind it
BUDGET = 0.05  # seconds of jobs a batch runs before it commits and leaves the rest to the next one
SLOW = 0.1  # seconds: a batch slower than this is logged
Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], Any]  # (job, args, kwargs, its answer)


def _under_gevent() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("threading")


class _Answer:
    """A caller's answer under gevent: a Future's three methods over gevent's AsyncResult, which the
    writer's native thread may set (a Future's lock is gevent's there, and so not for native threads)."""

    def __init__(self) -> None:
        from gevent.event import AsyncResult

        self._result = AsyncResult()

    def set_result(self, value: Any) -> None:
        self._result.set(value)

    def set_exception(self, error: BaseException) -> None:
        self._result.set_exception(error)

    def result(self, timeout: float | None = None) -> Any:
        from gevent import Timeout

        try:
            return self._result.get(timeout=timeout)
        except Timeout:
            raise FutureTimeout from None


class Writer:
    def __init__(self, sessions: sessionmaker[Session], *, name: str = "cbt-writer", timeout: float = 30) -> None:
        self._sessions = sessions
        self.timeout = timeout  # how long a caller waits for its commit before it is told to retry
        self._jobs: _queue.SimpleQueue[tuple[bool, Job] | None] = _queue.SimpleQueue()  # (behind, job); native
        self._thread: Any = None  # the loop's thread, or under gevent its task in gevent's pool
        self._lock = threading.Lock()
        self._gevent = _under_gevent()
        self._name = name
        self.batches = 0
        self.jobs = 0

    def run(self, job: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``job(session, *args, **kwargs)`` in the writer; return its result once committed, or raise
        its error; :class:`Busy` when the writer is so far behind that the caller has waited too long (the
        job may still commit later: every write use case is safe to repeat)."""
        return self._answer(self.submit(job, *args, **kwargs))

    def run_behind(self, job: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """:meth:`run` for the live channel's bookkeeping (presence, message receipts): a batch takes it
        after every job of :meth:`run` waiting, so a flood of it (everyone's receipt of a broadcast,
        everyone reconnecting after a restart) never holds up an answer."""
        return self._answer(self.submit_behind(job, *args, **kwargs))

    def submit(self, job: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._submit(False, job, args, kwargs)

    def submit_behind(self, job: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._submit(True, job, args, kwargs)

    def _submit(self, behind: bool, job: Callable[..., T], args: tuple, kwargs: dict) -> Future[T]:
        self._ensure_started()
        future: Any = _Answer() if self._gevent else Future()
        self._jobs.put((behind, (job, args, kwargs, future)))
        return future

    def _answer(self, future: Future[T]) -> T:
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            log.warning("writer %s: a job waited over %s s", self._name, self.timeout)
            raise Busy("服务器繁忙，请稍后重试", code="server_busy") from None

    def stop(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._jobs.put(None)
                if self._gevent:
                    self._thread.get(timeout=10)
                else:
                    self._thread.join(timeout=10)
                self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    if self._gevent:
                        from gevent.threadpool import ThreadPool

                        self._pool = ThreadPool(1)
                        self._thread = self._pool.spawn(self._loop)
                    else:
                        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                        self._thread.start()

    def _loop(self) -> None:
        lanes: tuple[deque[Job], deque[Job]] = (deque(), deque())  # first the jobs of run, then those behind
        stopping = False
        while True:
            waiting = [] if (lanes[0] or lanes[1]) else [self._jobs.get()]  # wait only with nothing to do
            while True:  # take in everything waiting
                try:
                    waiting.append(self._jobs.get_nowait())
                except _queue.Empty:
                    break
            for item in waiting:
                if item is None:
                    stopping = True  # after what came before it
                else:
                    lanes[item[0]].append(item[1])
            if not (lanes[0] or lanes[1]):
                if stopping:
                    return
                continue
            batch: list[tuple[int, Job]] = []
            for i, lane in enumerate(lanes):
                while lane and len(batch) < MAX_BATCH:
                    batch.append((i, lane.popleft()))
            started = time.perf_counter()
            outcomes, (jobs_s, cpu_s, commit_s, slowest) = self._run_batch(batch)
            for i, job in reversed(batch[len(outcomes) :]):  # past the budget: first in the next batch
                lanes[i].appendleft(job)
            del batch[len(outcomes) :]
            if (took := time.perf_counter() - started) > SLOW:  # a suspect for the saves' tail latency
                log.warning(
                    "writer %s: a batch of %d jobs took %.0f ms (jobs %.0f ms, %.0f ms of it CPU, the slowest %s "
                    "%.0f ms; commit %.0f ms)",
                    self._name, len(batch), took * 1000, jobs_s * 1000, cpu_s * 1000,
                    slowest[1], slowest[0] * 1000, commit_s * 1000,
                )  # fmt: skip
            self.batches += 1
            self.jobs += len(batch)
            for future, result, error in outcomes:  # answered only now, after the commit
                if error is None:
                    future.set_result(result)
                else:
                    future.set_exception(error)

    def _run_batch(
        self, batch: list[tuple[int, Job]]
    ) -> tuple[list[tuple[Future[Any], Any, BaseException | None]], tuple]:
        """The outcomes of the jobs run (in order, those within the time budget), and (seconds in the
        jobs, of it CPU, seconds in the commit, the slowest job)."""
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        started, cpu = time.perf_counter(), time.thread_time()
        slowest = (0.0, "")
        with self._sessions() as session:
            for _lane, (job, args, kwargs, future) in batch:
                job_started = time.perf_counter()
                if job_started - started > BUDGET:  # whoever waits behind gets committed now
                    break
                try:
                    with session.begin_nested():
                        outcomes.append((future, job(session, *args, **kwargs), None))
                except Exception as exc:  # the job's own error goes back to its caller only
                    outcomes.append((future, None, exc))
                # Hot jobs write with Core statements, past the ORM: the next job reads afresh.
                session.expire_all()
                if (job_took := time.perf_counter() - job_started) > slowest[0]:
                    slowest = (job_took, f"{job.__module__.rsplit('.', 1)[-1]}.{job.__name__}")
            jobs_done, cpu = time.perf_counter(), time.thread_time() - cpu
            try:
                session.commit()
            except Exception as exc:
                log.exception("group commit failed; %d jobs refused", len(batch))
                session.rollback()
                outcomes = [(f, None, exc) for f, _, _ in outcomes]
        return outcomes, (jobs_done - started, cpu, time.perf_counter() - jobs_done, slowest)
