"""Untrusted input never breaks anything: every JSON endpoint and socket event, given hostile bodies
(nested 2,000 deep, integers past 2^63, lists where strings belong, strings where numbers belong,
not an object at all), answers a typed 4xx ``{error, message}`` (a socket event: an error reply),
and nothing stored changes."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from cbt.db import models
from cbt.runtime import of as runtime_of
from tests.web.test_realtime import crew, exam_socket, monitor, staff_login  # noqa: F401 (crew is a fixture)

DEEP = "[" * 2000 + "]" * 2000
HUGE = 2**70
NUMBERS = {"candidate_id", "session_id", "minutes", "message_id", "room_id", "seq", "seconds"}
NOT_A_NUMBER = [HUGE, -HUGE, 2**63, -1, 0, 1.5, "1", "", [], ["a"], {}, True]
NOT_A_TEXT = [HUGE, 1.5, [], ["a"] * 200, {"a": 1}, True, "x" * 5000]


def hostile_bodies(fields: list[str]) -> list[str]:
    """Whole bodies that are not what the endpoint wants, and each field given each wrong value."""
    bodies = [DEEP, "[]", "1", '"text"', "null", "{", json.dumps({"a": json.loads("[" * 500 + "]" * 500)})]
    bodies.append(json.dumps({"unknown_field": 1}))
    for field in fields:
        wrong = NOT_A_NUMBER if field in NUMBERS else NOT_A_TEXT
        bodies += [json.dumps({field: value}) for value in wrong]
    return bodies


def stored(app) -> dict[str, int]:
    tables = [models.Response, models.Incident, models.Message, models.Pause, models.Termination, models.RoomRecord]
    with runtime_of(app).sessions() as s:
        counts = {t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in tables}
        counts["extensions"] = s.scalar(select(func.sum(models.Attempt.extension_seconds))) or 0
        counts["seats"] = hash(tuple(s.scalars(select(models.Candidate.seat).order_by(models.Candidate.id))))
        counts["submitted"] = s.scalar(
            select(func.count()).select_from(models.Attempt).where(models.Attempt.submitted_at.is_not(None))
        )
    return counts


def assert_refused(response, what):
    assert 400 <= response.status_code < 500, (what, response.status_code, response.get_data(as_text=True)[:300])
    body = response.json
    assert isinstance(body, dict) and body.get("error") and body.get("message"), what


PROCTOR_ACTIONS = {
    "admit": ["candidate_id"],
    "pause": ["candidate_id", "reason"],
    "resume": ["candidate_id"],
    "extend": ["candidate_id", "minutes", "reason"],
    "message": ["candidate_id", "text"],
    "submit": ["candidate_id", "reason"],
    "terminations": ["candidate_id", "reason"],
    "move": ["candidate_id", "seat", "reason"],
    "unlock": ["candidate_id"],
    "incidents": ["candidate_id", "category", "text", "session_id"],
    "sign": ["session_id"],
}


def test_the_candidate_api_refuses_hostile_bodies(app, candidate):
    c = candidate(3)
    anonymous = app.test_client()
    for body in hostile_bodies(["ticket", "id_number"]):
        response = anonymous.post("/api/v1/candidate/login", data=body, content_type="application/json")
        assert_refused(response, ("login", body[:80]))
    c.login()
    c.start()
    question = c.attempt().json["items"][0]
    qid = question.get("questions", [question])[0]["id"]
    before = stored(app)
    for body in hostile_bodies(["answer", "seq"]):
        response = c.put(f"/api/v1/candidate/attempt/responses/{qid}", data=body, content_type="application/json")
        assert_refused(response, ("save", body[:80]))
    for path in ("/api/v1/candidate/attempt/responses/" + "x" * 3000, "/api/v1/candidate/attempt/responses/%00"):
        response = c.put(path, json={"answer": [], "seq": 1})
        assert_refused(response, path[:60])
    assert stored(app) == before


def test_the_proctor_api_refuses_hostile_bodies(app, candidate, crew):  # noqa: F811
    c = candidate(3)
    c.login()
    c.start()
    proctor, headers = staff_login(app, "p1")
    room = crew["room"]
    before = stored(app)
    for action, fields in PROCTOR_ACTIONS.items():
        for body in hostile_bodies(fields):
            response = proctor.post(
                f"/api/v1/proctor/rooms/{room}/{action}", data=body, content_type="application/json", headers=headers
            )
            assert_refused(response, (action, body[:80]))
    for path in (f"/api/v1/proctor/rooms/{HUGE}", f"/api/v1/proctor/rooms/{room}/events?session={HUGE}&before=x"):
        assert_refused(proctor.get(path), path)
    assert stored(app) == before


EVENTS = {
    "start": [],
    "save": ["question_id", "answer", "seq"],
    "submit": [],
    "signal": ["kind", "seconds"],
    "ack": ["message_id"],
}


def socket_payloads(fields: list[str]) -> list[object]:
    """The hostile bodies that are JSON, nested at most 100 deep (the test client's own encoder
    recurses; JSON nested deeper than the server's decoder allows closes the connection:
    tests/e2e/test_floods.py)."""
    payloads = []
    for body in hostile_bodies(fields):
        try:
            payloads.append(json.loads(body.replace("[" * 500, "[" * 100).replace("]" * 500, "]" * 100)))
        except (ValueError, RecursionError):
            continue
    return payloads


def test_every_socket_event_answers_hostile_payloads_with_an_error(app, candidate, crew):  # noqa: F811
    c = candidate(3)
    c.login()
    sock = exam_socket(app, c)
    before = stored(app)
    for event, fields in {"save": EVENTS["save"], "signal": EVENTS["signal"], "ack": EVENTS["ack"]}.items():
        for payload in socket_payloads(fields):
            reply = sock.emit(event, payload, namespace="/exam", callback=True)
            assert isinstance(reply, dict) and reply.get("error"), (event, str(payload)[:80], reply)
    mon = monitor(app, crew["proctor"])
    for payload in socket_payloads(["room_id", "session_id"]):
        reply = mon.emit("watch", payload, namespace="/monitor", callback=True)
        assert isinstance(reply, dict) and reply.get("error"), (str(payload)[:80], reply)
    assert stored(app) == before
