"""Attempt use cases on SQLite and PostgreSQL: save/submit rules, overdue expiry, and racing a save against a submit."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from cbt.core.errors import Busy, Conflict
from cbt.db import models
from cbt.db.session import make_engine, make_session_factory, transaction
from cbt.db.writer import Writer
from cbt.services import attempts
from tests.support.exam import AUDIT_KEY, plan_exam_day


@pytest.fixture
def day(db_url, lsa_pack):
    return plan_exam_day(db_url, lsa_pack, candidates=3)


@pytest.fixture
def sessions(day):
    engine = make_engine(day.url)
    yield make_session_factory(engine, AUDIT_KEY)
    engine.dispose()


def candidate_id(sessions, ticket):
    with sessions() as s:
        return s.scalar(select(models.Candidate.id).where(models.Candidate.ticket == ticket))


def run(sessions, job, *args):
    with sessions() as s, transaction(s):
        return job(s, *args)


def questions(view):
    return [q for item in view["items"] for q in item.get("questions", [item])]


def test_save_submit_and_expire(day, sessions):
    cid = candidate_id(sessions, day.account(4).ticket)
    now = day.clock()
    run(sessions, attempts.start, cid, now)
    with sessions() as s:
        view = attempts.attempt_view(s, cid, now)
    q = questions(view)[0]
    run(sessions, attempts.save_response, cid, q["id"], [q["options"][0]["id"]], 1, now)
    later = now + timedelta(minutes=90, seconds=6)
    with pytest.raises(Conflict) as err:
        run(sessions, attempts.save_response, cid, q["id"], [q["options"][1]["id"]], 2, later)
    assert err.value.code == "deadline_passed"
    assert run(sessions, attempts.expire_overdue, later).result["closed"] == [view["attempt_id"]]
    assert run(sessions, attempts.expire_overdue, later).result["closed"] == [], "expiring twice changes nothing"
    with sessions() as s:
        attempt = s.get(models.Attempt, view["attempt_id"])
        assert attempt.submit_reason == "deadline" and attempt.score["answered"] == 1


def test_writer_acks_only_committed_work(day, sessions):
    cid = candidate_id(sessions, day.account(3).ticket)
    writer = Writer(sessions)
    now = day.clock()
    writer.run(attempts.start, cid, now)
    with sessions() as s:
        qs = questions(attempts.attempt_view(s, cid, now))
    futures = [writer.submit(attempts.save_response, cid, q["id"], [q["options"][0]["id"]], 1, now) for q in qs[:40]]
    bad = writer.submit(attempts.save_response, cid, qs[0]["id"], ["NOPE"], 2, now)
    results = [f.result(timeout=10) for f in futures]
    with pytest.raises(Exception, match="不属于本题"):
        bad.result(timeout=10)
    with sessions() as s:
        stored = {r.question_id for r in s.scalars(select(models.Response))}
    assert {r["question_id"] for r in results} == stored, "every acknowledged save is in the database"
    assert writer.batches < 41, "saves were grouped into fewer commits"
    writer.stop()


def test_the_live_channels_bookkeeping_waits_behind_the_answers(sessions):
    writer = Writer(sessions)
    release, done = threading.Event(), []
    writer.submit(lambda session: release.wait(5))  # holds the writer while the rest queue up
    receipts = [writer.submit_behind(lambda session, i=i: done.append(f"receipt {i}")) for i in range(100)]
    answers = [writer.submit(lambda session, i=i: done.append(f"answer {i}")) for i in range(3)]
    release.set()
    for future in receipts + answers:
        future.result(timeout=10)
    assert done == [f"answer {i}" for i in range(3)] + [f"receipt {i}" for i in range(100)]
    assert writer.batches >= 2, "at most 64 jobs a batch"
    writer.stop()


def test_a_flood_of_one_small_job_is_taken_many_items_to_a_call(sessions):
    writer = Writer(sessions)
    release, calls = threading.Event(), []

    def receipts(session, items):  # one outcome per item; an error in its own item's place
        calls.append(list(items))
        return [ValueError(f"refused {i}") if i % 10 == 3 else f"ok {i}" for i in items]

    writer.submit(lambda session: release.wait(5))  # holds the writer while the receipts come in
    outcomes: dict[int, str] = {}

    def receipt(i):
        try:
            outcomes[i] = writer.run_gathered(receipts, i)
        except ValueError as exc:
            outcomes[i] = str(exc)

    threads = [threading.Thread(target=receipt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    while sum(len(items) for items, _ in writer._gathering.values()) < 40:
        threading.Event().wait(0.01)
    release.set()
    for t in threads:
        t.join(10)
    assert outcomes == {i: f"refused {i}" if i % 10 == 3 else f"ok {i}" for i in range(40)}
    assert len(calls) == 1 and sorted(calls[0]) == list(range(40)), "everything that waited went in one call"
    assert writer.run_gathered(receipts, 41) == "ok 41", "a later item opens the next call"
    assert len(calls) == 2
    writer.stop()


def test_a_writer_too_far_behind_says_busy_and_the_retry_does_not_repeat(day, sessions):
    cid = candidate_id(sessions, day.account(3).ticket)
    now = day.clock()
    writer = Writer(sessions, timeout=0.2)
    writer.run(attempts.start, cid, now)
    with sessions() as s:
        q = questions(attempts.attempt_view(s, cid, now))[0]
    release = threading.Event()
    writer.submit(lambda session: release.wait(5))  # a batch that holds the writer up
    with pytest.raises(Busy) as busy:
        writer.run(attempts.save_response, cid, q["id"], [q["options"][0]["id"]], 1, now)
    assert (busy.value.status, busy.value.code) == (503, "server_busy")
    release.set()
    again = writer.run(attempts.save_response, cid, q["id"], [q["options"][0]["id"]], 1, now)  # the page's retry
    assert again["seq"] == 1 and again["stale"], "the first try committed after all; the retry changed nothing"
    writer.stop()


def test_a_save_racing_a_submit_is_either_refused_or_scored(day, sessions):
    """Two sessions at once: whatever order the database picks, no acknowledged answer is left out."""
    cid = candidate_id(sessions, day.account(5).ticket)
    now = day.clock()
    run(sessions, attempts.start, cid, now)
    with sessions() as s:
        qs = questions(attempts.attempt_view(s, cid, now))
    for round_ in range(8):
        q = qs[round_]
        barrier = threading.Barrier(2)
        outcome: dict[str, object] = {}

        def save(q=q, barrier=barrier, outcome=outcome):
            barrier.wait()
            try:
                outcome["save"] = run(sessions, attempts.save_response, cid, q["id"], [q["options"][0]["id"]], 1, now)
            except Conflict as exc:
                outcome["save"] = exc.code

        def submit(barrier=barrier, outcome=outcome):
            barrier.wait()
            outcome["submit"] = run(sessions, attempts.submit, cid, now)

        threads = [threading.Thread(target=save), threading.Thread(target=submit)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        with sessions() as s:
            attempt = s.get(models.Attempt, outcome["submit"]["attempt_id"])
            scored = attempt.score["answered"]
            stored = s.scalar(
                select(models.Response).where(
                    models.Response.attempt_id == attempt.id, models.Response.question_id == q["id"]
                )
            )
        if isinstance(outcome["save"], dict):
            assert stored is not None and scored >= 1, "an acknowledged save is part of the scored answers"
        else:
            assert outcome["save"] == "attempt_closed" and stored is None
        # open a fresh attempt for the next round: reset this one
        with sessions() as s, transaction(s):
            a = s.get(models.Attempt, attempt.id)
            a.submitted_at = a.submit_reason = a.receipt = a.score = None
            for r in s.scalars(select(models.Response).where(models.Response.attempt_id == a.id)):
                s.delete(r)
