"""Proctor actions and their authorisation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cbt.core.errors import CbtError, Conflict, Forbidden, InvalidInput, NotFound
from cbt.core.events import Logged, MessageSent, Outcome
from cbt.core.signals import Signal
from cbt.db import models
from cbt.db.session import make_engine, make_session_factory, transaction
from cbt.services import attempts, audit, candidates, proctoring, staff
from tests.support.exam import AUDIT_KEY, plan_exam_day
from tests.support.outcomes import logged, pushes, seats


@pytest.fixture
def day(db_url, lsa_pack):
    return plan_exam_day(db_url, lsa_pack, candidates=32)  # rooms R01 (30) and R02 (2)


@pytest.fixture
def sessions(day):
    engine = make_engine(day.url)
    yield make_session_factory(engine, AUDIT_KEY)
    engine.dispose()


def run(sessions, job, *args, **kwargs):
    with sessions() as s, transaction(s):
        return job(s, *args, **kwargs)


def acknowledge(session, candidate_id, message_id, now):
    """One candidate's receipt, its error raised."""
    (outcome,) = proctoring.acknowledge_all(session, [(candidate_id, message_id, now)])
    if isinstance(outcome, CbtError):
        raise outcome
    return outcome


@pytest.fixture
def people(sessions, day):
    """Two proctors in R01, one in R02, a supervisor, an exam administrator; room ids; R01's candidates."""
    now = day.clock()
    with sessions() as s, transaction(s):
        rooms = {r.code: r.id for r in s.scalars(select(models.Room))}
        made = {}
        for username, role in [
            ("p1", "proctor"),
            ("p2", "proctor"),
            ("p3", "proctor"),
            ("sup", "supervisor"),
            ("chief", "admin"),
        ]:
            made[username], _ = staff.create_staff(s, username, username, role, "password-123", now=now, actor="admin")
        staff.assign(s, "p1", rooms["R01"], now=now, actor="admin")
        staff.assign(s, "p2", rooms["R01"], now=now, actor="admin")
        staff.assign(s, "p3", rooms["R02"], now=now, actor="admin")
        cands = list(
            s.scalars(
                select(models.Candidate).where(models.Candidate.room_id == rooms["R01"]).order_by(models.Candidate.seat)
            )
        )
    return {**made, "rooms": rooms, "candidates": [(c.id, c.ticket, c.id_number) for c in cands]}


def start_candidate(sessions, day, cid, ticket, id_number):
    run(sessions, candidates.login, ticket, id_number, now=day.clock(), ip="10.0.0.1", user_agent="t")
    run(sessions, attempts.start, cid, day.clock())


def test_a_proctor_acts_only_in_their_room_and_a_supervisor_only_watches(sessions, day, people):
    r1, r2 = people["rooms"]["R01"], people["rooms"]["R02"]
    now = day.clock()
    with pytest.raises(Forbidden) as err:
        run(sessions, proctoring.admit, people["p3"], r1, None, now)
    assert err.value.code == "not_your_room"
    with pytest.raises(Forbidden) as err:
        run(sessions, proctoring.admit, people["sup"], r1, None, now)
    assert err.value.code == "read_only"
    with sessions() as s:
        assert proctoring.room_view(s, people["sup"], r2, None, now)["summary"]["total"] == 2
        with pytest.raises(Forbidden):
            proctoring.room_view(s, people["p1"], r2, None, now)
    with sessions() as s:
        assert s.scalar(select(models.Attempt).where(models.Attempt.admitted_at.is_not(None))) is None, (
            "nothing changed"
        )


def test_admission_gates_the_start_then_a_room_starts_together(sessions, day, people, lsa_pack):
    from dataclasses import replace

    from cbt.services import batches

    now = day.clock()
    with sessions() as s, transaction(s):  # a certification batch that needs admission
        plan = batches.demo_plan("lsa", 3, 90, now, admission=True)
        plan = replace(plan, code="ADM", candidates=[replace(c, ticket="A" + c.ticket[1:]) for c in plan.candidates])
        batch_id = batches.plan_batch(s, plan, now=now, actor="admin")
        room = s.scalar(select(models.Room).where(models.Room.batch_id == batch_id))
        staff.assign(s, "p1", room.id, now=now, actor="admin")
        cands = list(s.scalars(select(models.Candidate).where(models.Candidate.batch_id == batch_id)))
    first, second, absent = cands
    for c in (first, second):
        run(sessions, candidates.login, c.ticket, c.id_number, now=now, ip=None, user_agent=None)
    with pytest.raises(Conflict) as err:
        run(sessions, attempts.start, first.id, now)
    assert err.value.code == "not_admitted"
    fx = run(sessions, proctoring.admit, people["p1"], room.id, first.id, now)
    assert seats(fx) == {first.id} and pushes(fx)[0][1] == "admitted"
    run(sessions, attempts.start, first.id, now)
    fx = run(sessions, proctoring.start_room, people["p1"], room.id, now + timedelta(seconds=5))
    assert fx.result == {"started": 1}, "the logged-in second candidate; the absent one is not started"
    with sessions() as s:
        rows = {
            a.candidate_id: a
            for a in s.scalars(
                select(models.Attempt)
                .join(models.ExamSession)
                .where(models.ExamSession.part == "theory", models.Attempt.candidate_id.in_([c.id for c in cands]))
            )
        }
        assert rows[second.id].started_at is not None and rows[second.id].admitted_by == "proctor:p1"
        assert rows[absent.id].started_at is None
    fx = run(sessions, proctoring.admit, people["p1"], room.id, None, now + timedelta(seconds=9))  # 全部允许入场
    assert seats(fx) == {absent.id}, "the room-wide admission admits whoever is not yet admitted"
    assert seats(run(sessions, proctoring.admit, people["p1"], room.id, None, now)) == set(), "and is safe to repeat"
    with sessions() as s:
        admissions = s.scalars(select(models.AuditEvent.subject).where(models.AuditEvent.action == "attempt.admit"))
        assert list(admissions) == [f"attempt:{rows[first.id].id}", f"attempt:{rows[absent.id].id}"]
        assert audit.verify_chain(s) is None


def test_pause_stops_the_clock_and_resume_restarts_it(sessions, day, people):
    r1 = people["rooms"]["R01"]
    cid, ticket, idn = people["candidates"][0]
    start_candidate(sessions, day, cid, ticket, idn)
    t = day.clock()
    with pytest.raises(InvalidInput):
        run(sessions, proctoring.pause, people["p1"], r1, cid, " ", t)
    fx = run(sessions, proctoring.pause, people["p1"], r1, cid, "设备故障", t + timedelta(minutes=10))
    assert pushes(fx)[0][1] == "paused" and pushes(fx)[0][2]["remaining_seconds"] == 80 * 60
    with sessions() as s:
        view = attempts.attempt_view(s, cid, t + timedelta(minutes=40))
    assert view["state"] == "paused" and view["remaining_seconds"] == 80 * 60
    with pytest.raises(Conflict) as err:
        run(
            sessions,
            attempts.save_response,
            cid,
            view["items"][0]["id"],
            [view["items"][0]["options"][0]["id"]],
            1,
            t + timedelta(minutes=40),
        )
    assert err.value.code == "attempt_paused"
    assert run(sessions, attempts.expire_overdue, t + timedelta(minutes=95)).result["closed"] == [], (
        "a paused clock is not overdue"
    )
    fx = run(sessions, proctoring.resume, people["p2"], r1, cid, t + timedelta(minutes=40))
    assert pushes(fx)[0][2]["remaining_seconds"] == 80 * 60
    with sessions() as s:
        assert attempts.attempt_view(s, cid, t + timedelta(minutes=50))["remaining_seconds"] == 70 * 60
        actions = [
            e.action for e in s.scalars(select(models.AuditEvent).where(models.AuditEvent.action.like("attempt.%")))
        ]
        assert actions == ["attempt.pause", "attempt.resume"]
        assert audit.verify_chain(s) is None


def test_extend_one_or_the_room_with_a_reason(sessions, day, people):
    r1 = people["rooms"]["R01"]
    for cid, ticket, idn in people["candidates"][:2]:
        start_candidate(sessions, day, cid, ticket, idn)
    now = day.clock()
    for bad in (0, -5, 500, "10", True):
        with pytest.raises(InvalidInput):
            run(sessions, proctoring.extend, people["p1"], r1, None, bad, "原因", now)
    with pytest.raises(InvalidInput) as err:
        run(sessions, proctoring.extend, people["p1"], r1, None, 10, "", now)
    assert err.value.code == "reason_required"
    fx = run(sessions, proctoring.extend, people["p1"], r1, None, 10, "停电", now)
    assert len(pushes(fx)) == 2 and all(p[2]["remaining_seconds"] == 100 * 60 for p in pushes(fx))
    with sessions() as s:
        event = s.scalars(select(models.AuditEvent).where(models.AuditEvent.action == "attempt.extend")).first()
        assert event.reason == "停电" and event.detail == {"before_seconds": 0, "after_seconds": 600}


def test_messages_reach_their_room_and_are_acknowledged(sessions, day, people):
    r1 = people["rooms"]["R01"]
    cid = people["candidates"][0][0]
    now = day.clock()
    fx = run(sessions, proctoring.message, people["p1"], r1, None, "请保持安静", now)
    assert [(p[0], p[1]) for p in pushes(fx)] == [(None, "notice")]  # one emit reaches the whole room
    message_id = fx.result["message_id"]
    run(sessions, acknowledge, cid, message_id, now)
    run(sessions, acknowledge, cid, message_id, now)  # twice is once
    with sessions() as s:
        assert s.scalars(select(models.MessageAck)).all()[0].candidate_id == cid
        other_room = s.scalar(select(models.Candidate.id).where(models.Candidate.room_id == people["rooms"]["R02"]))
    with pytest.raises(Exception, match="消息不存在"):
        run(sessions, acknowledge, other_room, message_id, now)


def test_receipts_taken_many_at_once_each_get_their_own_outcome(sessions, day, people):
    r1 = people["rooms"]["R01"]
    (c1, _, _), (c2, _, _) = people["candidates"][:2]
    now = day.clock()
    message_id = run(sessions, proctoring.message, people["p1"], r1, None, "请保持安静", now).result["message_id"]
    with sessions() as s:
        stranger = s.scalar(select(models.Candidate.id).where(models.Candidate.room_id == people["rooms"]["R02"]))
    receipts = [(c1, message_id, now), (c2, "7", now), (stranger, message_id, now), (c1, message_id, now),
                (c2, True, now), (c2, message_id + 99, now), (c2, message_id, now)]  # fmt: skip
    outcomes = run(sessions, proctoring.acknowledge_all, receipts)
    codes = [o.code if isinstance(o, CbtError) else [e["kind"] for e in logged(o)] for o in outcomes]
    assert codes == [["ack"], "bad_message_id", "message_not_found", [], "bad_message_id", "message_not_found", ["ack"]]
    assert not any(seats(o) for o in outcomes if isinstance(o, Outcome)), "a receipt changes no tile"
    with sessions() as s:
        stored = sorted(a.candidate_id for a in s.scalars(select(models.MessageAck)))
    assert stored == sorted([c1, c2]), "each candidate's receipt once; nothing for the refused ones"


def test_termination_needs_a_second_proctor(sessions, day, people):
    r1 = people["rooms"]["R01"]
    cid, ticket, idn = people["candidates"][1]
    start_candidate(sessions, day, cid, ticket, idn)
    now = day.clock()
    fx = run(sessions, proctoring.request_termination, people["p1"], r1, cid, "携带手机", now)
    tid = fx.result["termination_id"]
    with pytest.raises(Forbidden) as err:
        run(sessions, proctoring.confirm_termination, people["p1"], r1, tid, now)
    assert err.value.code == "second_proctor_required"
    with pytest.raises(Forbidden):
        run(sessions, proctoring.confirm_termination, people["p3"], r1, tid, now)
    fx = run(sessions, proctoring.confirm_termination, people["p2"], r1, tid, now)
    assert pushes(fx)[0][1] == "submitted"
    with sessions() as s:
        attempt = s.scalar(
            select(models.Attempt).where(models.Attempt.candidate_id == cid, models.Attempt.started_at.is_not(None))
        )
        assert attempt.submit_reason == "terminated" and attempt.close_note == "携带手机"
        sittings = s.scalars(select(models.Attempt).where(models.Attempt.candidate_id == cid)).all()
        assert len(sittings) == 2 and all(a.submit_reason == "terminated" for a in sittings), "the skill part too"
        assert attempts.status(s, cid, now)["terminated"] is True
    with pytest.raises(Conflict):  # the terminated candidate cannot start the skill part
        run(sessions, attempts.start, cid, now)


def test_force_submit_and_seat_change(sessions, day, people):
    r1 = people["rooms"]["R01"]
    (c1, t1, i1), (c2, t2, i2) = people["candidates"][2:4]
    start_candidate(sessions, day, c1, t1, i1)
    start_candidate(sessions, day, c2, t2, i2)
    now = day.clock()
    run(sessions, proctoring.force_submit, people["p1"], r1, c1, "考生要求提前交卷但无法操作", now)
    with sessions() as s:
        assert attempts.attempt_view(s, c1, now)["submit_reason"] == "proctor"
    with sessions() as s:
        token = s.scalar(select(models.CandidateLogin.token).where(models.CandidateLogin.candidate_id == c2))
    with pytest.raises(Conflict) as taken:  # a seat another candidate holds
        run(sessions, proctoring.move_seat, people["p1"], r1, c2, "01", "电脑死机", now)
    assert taken.value.code == "seat_taken"
    run(sessions, proctoring.move_seat, people["p1"], r1, c2, "31", "电脑死机", now)
    with sessions() as s:
        with pytest.raises(Exception) as err:
            candidates.authenticate(s, token)
        assert err.value.code == "session_moved"
    info, _ = run(sessions, candidates.login, t2, i2, now=now, ip="10.0.0.31", user_agent="new")
    with sessions() as s:
        view = attempts.attempt_view(s, info.candidate_id, now + timedelta(minutes=1))
        assert view["state"] == "in_progress" and view["remaining_seconds"] == 89 * 60, "same attempt, time kept"
        assert s.get(models.Candidate, c2).seat == "31"


def test_room_record_is_read_only_once_signed(sessions, day, people):
    r1 = people["rooms"]["R01"]
    now = day.clock()
    with sessions() as s:
        session_id = proctoring.room_view(s, people["p1"], r1, None, now)["session"]["id"]
    with pytest.raises(InvalidInput):
        run(sessions, proctoring.record_incident, people["p1"], r1, None, "天气", "下雨", session_id, now)
    run(sessions, proctoring.record_incident, people["p1"], r1, None, "其他", "考场空调故障，已调换", session_id, now)
    with pytest.raises(Forbidden):
        run(sessions, proctoring.sign_record, people["sup"], r1, session_id, now)
    run(sessions, proctoring.sign_record, people["p1"], r1, session_id, now)
    run(sessions, proctoring.sign_record, people["p2"], r1, session_id, now)
    with pytest.raises(Conflict) as err:
        run(sessions, proctoring.record_incident, people["p2"], r1, None, "其他", "补记", session_id, now)
    assert err.value.code == "record_signed"
    with sessions() as s:
        record = s.scalar(select(models.RoomRecord))
        assert [x["staff"] for x in record.signatures] == ["proctor:p1", "proctor:p2"]
        assert any("空调" in e["text"] for e in record.content["events"])


def test_dashboard_states_progress_and_staffing(sessions, day, people):
    r1 = people["rooms"]["R01"]
    (c1, t1, i1), (c2, t2, i2) = people["candidates"][:2]
    start_candidate(sessions, day, c1, t1, i1)
    run(sessions, candidates.login, t2, i2, now=day.clock(), ip=None, user_agent=None)
    now = day.clock()
    with sessions() as s:
        q = attempts.attempt_view(s, c1, now)["items"][0]
    run(sessions, attempts.save_response, c1, q["id"], [q["options"][0]["id"]], 1, now)
    run(sessions, proctoring.set_presence, c1, True, now)
    run(sessions, proctoring.candidate_signal, c1, Signal("tab_hidden", 12.0), now)
    with sessions() as s:
        view = proctoring.room_view(s, people["p1"], r1, None, now)
    tiles = {t["candidate_id"]: t for t in view["tiles"]}
    assert tiles[c1]["state"] == "in_progress" and tiles[c1]["answered"] == 1 and tiles[c1]["total"] == 80
    assert tiles[c1]["incidents"] == 1
    assert tiles[c2]["state"] == "waiting"
    assert view["summary"]["absent"] == 28
    assert view["staffing"] == {**view["staffing"], "present": 0, "required": 2, "ok": False}
    run(sessions, proctoring.set_presence, c1, False, now)
    with sessions() as s:
        assert {t["candidate_id"]: t for t in proctoring.room_view(s, people["p1"], r1, None, now)["tiles"]}[c1][
            "state"
        ] == "offline"
    assert any(e["kind"] == "tab_hidden" and "12 秒" in e["text"] for e in view["events"])
    with sessions() as s:  # the signal names the attempt in progress
        signal = s.scalar(select(models.Incident).where(models.Incident.kind == "tab_hidden"))
        assert signal.attempt_id == attempts.attempt_view(s, c1, now)["attempt_id"] and signal.candidate_id == c1


def test_a_restarted_server_clears_presence_and_records_who_comes_back(sessions, day, people):
    (c1, t1, i1), (c2, _, _) = people["candidates"][:2]
    start_candidate(sessions, day, c1, t1, i1)
    run(sessions, proctoring.set_presence, c1, True, day.clock())
    run(sessions, proctoring.set_presence, c2, True, day.clock())  # logged in elsewhere, not started
    day.clock.advance(minutes=5)
    assert run(sessions, proctoring.clear_presence, day.clock()) == 2  # the process that held them died
    with sessions() as s:
        assert not s.scalars(select(models.Candidate.id).where(models.Candidate.online.is_(True))).all()
    fx = run(sessions, proctoring.set_presence, c1, True, day.clock())  # the page reconnects
    assert [e["kind"] for e in logged(fx)] == ["reconnected"]
    assert run(sessions, proctoring.clear_presence, day.clock()) == 1


def test_presence_flapping_is_counted_into_one_incident_per_kind(sessions, day, people):
    (c1, t1, i1) = people["candidates"][0]
    start_candidate(sessions, day, c1, t1, i1)
    events = logged(run(sessions, proctoring.set_presence, c1, True, day.clock()))  # the page is connected
    for _ in range(20):  # a flaky cable: the page drops and comes back twenty times in a few seconds
        for online in (False, True):
            events += logged(run(sessions, proctoring.set_presence, c1, online, day.clock()))
            day.clock.advance(seconds=0.1)
    with sessions() as s:
        stored = s.scalars(
            select(models.Incident).where(
                models.Incident.candidate_id == c1, models.Incident.kind.in_(["disconnected", "reconnected"])
            )
        ).all()
    counts = {i.kind: i.detail.get("count", 1) for i in stored}
    assert len(stored) == 2 and counts == {"disconnected": 20, "reconnected": 21}
    assert len(events) <= 2, "the room's event list gets the first of each kind, not forty"


def test_the_exam_administrator_broadcasts_to_every_room_of_the_batch(sessions, day, people):
    r1, r2 = people["rooms"]["R01"], people["rooms"]["R02"]
    with sessions() as s:
        batch_id = s.get(models.Room, r1).batch_id
    for who, code in [(people["p1"], "admins_only"), (people["sup"], "admins_only")]:
        with pytest.raises(Forbidden) as refused:
            run(sessions, proctoring.message_all, who, batch_id, "请检查答题卡", day.clock())
        assert refused.value.code == code
    with pytest.raises(InvalidInput):
        run(sessions, proctoring.message_all, people["chief"], batch_id, "  ", day.clock())
    with pytest.raises(NotFound):
        run(sessions, proctoring.message_all, people["chief"], batch_id + 99, "请检查答题卡", day.clock())
    fx = run(sessions, proctoring.message_all, people["chief"], batch_id, "请检查答题卡", day.clock())
    sent = fx.of(MessageSent)
    assert sorted(e.room_id for e in sent) == sorted([r1, r2])
    for (to, event, payload), e in zip(pushes(fx), sent, strict=True):
        assert to is None and event == "notice", "one emit to every page of each room"
        assert payload["text"] == "请检查答题卡" and payload["broadcast"] is True and payload["id"] == e.message_id
    assert [(e.room_id, e.text) for e in fx.of(Logged)] == [(e.room_id, "考务广播：请检查答题卡") for e in sent]
    (c1, _, _) = people["candidates"][0]
    notice = next(p for p, e in zip(pushes(fx), sent, strict=True) if e.room_id == r1)[2]
    acked = run(sessions, acknowledge, c1, notice["id"], day.clock())  # a room's candidate confirms it
    assert [e["kind"] for e in logged(acked)] == ["ack"]
    with sessions() as s:
        (event,) = s.scalars(select(models.AuditEvent).where(models.AuditEvent.action == "batch.message")).all()
        assert event.actor == "admin:chief" and event.detail == {"rooms": 2, "text": "请检查答题卡"}


def test_stored_events_read_as_they_were_shown(sessions, day, people):
    """A proctor who reconnects gets the same event texts as those shown live."""
    r1 = people["rooms"]["R01"]
    cid, ticket, idn = people["candidates"][0]
    start_candidate(sessions, day, cid, ticket, idn)
    live = logged(run(sessions, proctoring.extend, people["p1"], r1, cid, 5, "补时", day.clock()))
    with sessions() as s:
        stored = proctoring.room_view(s, people["p1"], r1, None, day.clock())["events"]
    assert stored[0]["text"] == live[0]["text"] == "延长 5 分钟：补时"
    said = {"id": "延长 %(minutes)s 分钟：%(reason)s", "params": {"minutes": "5", "reason": "补时"}}
    assert stored[0]["msg"] == live[0]["msg"] == said, "a dashboard in another language renders it from its id"


def test_tile_updates_cover_many_rooms_in_one_round(sessions, day, people):
    r1, r2 = people["rooms"]["R01"], people["rooms"]["R02"]
    first, second = people["candidates"][0], people["candidates"][1]
    start_candidate(sessions, day, *first)
    with sessions() as s:
        r2_ids = set(s.scalars(select(models.Candidate.id).where(models.Candidate.room_id == r2)))
        updates = proctoring.tile_updates(s, {r1: {first[0], second[0]}, r2: r2_ids}, day.clock())
        whole = proctoring.room_view(s, people["p1"], r1, None, day.clock())
    assert set(updates) == {r1, r2}
    assert {t["candidate_id"] for t in updates[r1]["tiles"]} == {first[0], second[0]}
    assert {t["candidate_id"] for t in updates[r2]["tiles"]} == r2_ids
    by_id = {t["candidate_id"]: t for t in whole["tiles"]}
    for tile in updates[r1]["tiles"]:  # the same tile as the room's own view shows
        assert tile == by_id[tile["candidate_id"]]
    assert by_id[first[0]]["state"] == "offline" and by_id[second[0]]["state"] == "absent"  # started, no socket
    assert updates[r1]["session"] == whole["session"]


def test_one_bad_receipt_gathered_with_others_fails_only_itself(sessions, day, people):
    """A receipt of message 2^70, or one that breaks the gathered job itself, among good ones: every
    good receipt is stored and answered, the bad ones get their own error."""
    import threading

    from cbt.db.writer import Writer

    r1 = people["rooms"]["R01"]
    fx = run(sessions, proctoring.message, people["p1"], r1, None, "请检查答题卡", day.clock())
    message_id = fx.result["message_id"]
    (c1, _, _), (c2, _, _), (c3, _, _) = people["candidates"][:3]
    writer, outcomes = Writer(sessions), {}
    receipts = [(c1, message_id), (c2, 2**70), (2**70, message_id), (c3, message_id)]
    gate = threading.Barrier(len(receipts))

    def send(i: int, receipt: tuple) -> None:
        gate.wait()
        try:
            outcomes[i] = writer.run_gathered(proctoring.acknowledge_all, (*receipt, day.clock()))
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=send, args=(i, r)) for i, r in enumerate(receipts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.stop()
    assert isinstance(outcomes[0], Outcome) and isinstance(outcomes[3], Outcome)
    assert isinstance(outcomes[1], InvalidInput) and outcomes[1].code == "bad_message_id"
    assert isinstance(outcomes[2], Exception)
    with sessions() as s:
        stored = set(
            s.scalars(select(models.MessageAck.candidate_id).where(models.MessageAck.message_id == message_id))
        )
    assert stored == {c1, c3}
