"""One writer with group commit: the write path of the exam.

Every state-changing use case of a running exam (save an answer, start, submit, expire) is handed to
a single writer thread as a job. The writer takes every job waiting, runs each in its own SAVEPOINT
(a failing job rolls back alone), commits the batch once, and only then answers each caller: an
acknowledged answer is a committed answer. On SQLite this keeps to one writer (no lock contention)
and spreads the cost of the durable commit over the batch; on PostgreSQL it is the same code, one
writer per server process.

Under gevent (the production server) the loop is a greenlet, but each batch's database work runs in
a native thread of gevent's pool, so a commit's fsync, or a lock held by another process, never
stalls the thousands of connections the hub is serving.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from cbt.core.errors import Busy
from cbt.offload import off_the_hub

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 64  # a flood of logins or starts commits in slices, not ahead of every save behind it
MAX_BATCH_BEHIND = 16  # jobs of run_behind join a batch only while it is smaller than this: a batch is
# never interrupted, and an answer or a page signal arriving during a flood of them (every page's
# presence after a restart) waits for the batch in progress
GATHER_SECONDS = 0.1  # how long a gathered job waits for more items (see Writer.run_gathered)
MAX_GATHERED = 500  # items one gathered job takes at most
SLOW = 0.1  # seconds: a batch slower than this is logged
Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], Future[Any]]


class Writer:
    def __init__(self, sessions: sessionmaker[Session], *, name: str = "cbt-writer", timeout: float = 30) -> None:
        self._sessions = sessions
        self.timeout = timeout  # how long a caller waits for its commit before it is told to retry
        self._jobs: queue.Queue[tuple[bool, Job] | None] = queue.Queue()  # (behind, job)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._name = name
        self._gathering: dict[Callable, tuple[list[Any], Future[list[Any]]]] = {}  # job -> its open gathering
        self._gathering_lock = threading.Lock()
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

    def run_gathered(self, job: Callable[[Session, list[Any]], list[Any]], item: Any) -> Any:
        """:meth:`run_behind` for a flood of one small job (everyone's receipt of a broadcast): the items
        that arrive within ``GATHER_SECONDS`` of the first, and while the job then waits its turn, are
        taken by one call, ``job(session, items)``, which returns one outcome per item in order, an
        exception for an item refused (raised here). Answers after the commit, as :meth:`run` does."""
        with self._gathering_lock:
            open_ = self._gathering.get(job)
            opening = open_ is None or len(open_[0]) >= MAX_GATHERED
            if opening:
                open_ = self._gathering[job] = ([], Future())
            items, future = open_  # type: ignore[misc]
            index = len(items)
            items.append(item)
        if opening:
            time.sleep(GATHER_SECONDS)  # the rest of the flood joins meanwhile (a greenlet's sleep under gevent)
            self._ensure_started()
            self._jobs.put((True, (self._take_gathered, (job, items), {}, future)))
        outcome = self._answer(future)[index]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _take_gathered(self, session: Session, job: Callable[[Session, list[Any]], list[Any]], items: list) -> list:
        """``job`` for all the items at once; if that fails, for each alone, so one bad item fails only
        itself (its error its outcome) and the others are still done."""
        with self._gathering_lock:  # closed: what arrives from now on waits for the next call
            open_ = self._gathering.get(job)
            if open_ is not None and open_[0] is items:
                del self._gathering[job]
        try:
            with session.begin_nested():
                return job(session, items)
        except Exception:
            log.exception(
                "writer %s: a gathered %s of %d items failed; each alone", self._name, job.__name__, len(items)
            )
        outcomes: list[Any] = []
        for item in items:
            try:
                with session.begin_nested():
                    outcomes.append(job(session, [item])[0])
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def submit(self, job: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._submit(False, job, args, kwargs)

    def submit_behind(self, job: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._submit(True, job, args, kwargs)

    def _submit(self, behind: bool, job: Callable[..., T], args: tuple, kwargs: dict) -> Future[T]:
        self._ensure_started()
        future: Future[T] = Future()
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
                self._thread.join(timeout=10)
                self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
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
                except queue.Empty:
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
            batch: list[Job] = []
            for lane, size in zip(lanes, (MAX_BATCH, MAX_BATCH_BEHIND), strict=True):
                while lane and len(batch) < size:
                    batch.append(lane.popleft())
            started = time.perf_counter()
            outcomes, (jobs_s, cpu_s, commit_s, slowest) = off_the_hub(self._run_batch, batch)
            if (took := time.perf_counter() - started) > SLOW:  # a suspect for the saves' tail latency
                log.warning(
                    "writer %s: a batch of %d jobs took %.0f ms (jobs %.0f ms, %.0f ms of it CPU, the slowest %s "
                    "%.0f ms; commit %.0f ms; the rest waiting to be run)",
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

    def _run_batch(self, batch: list[Job]) -> tuple[list[tuple[Future[Any], Any, BaseException | None]], tuple]:
        """The batch's outcomes, and (seconds in the jobs, of it CPU, seconds in the commit, the slowest job)."""
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        started, cpu = time.perf_counter(), time.thread_time()
        slowest = (0.0, "")
        with self._sessions() as session:
            for job, args, kwargs, future in batch:
                job_started = time.perf_counter()
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
