"""The room record cannot be emptied: bad page signals are refused, a flood is coalesced and limited,
and the record of a room and session keeps every event (paged on the dashboard, whole when signed)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from cbt.core import signals
from cbt.db import models
from cbt.runtime import of as runtime_of
from tests.web.test_realtime import crew, exam_socket, staff_login  # noqa: F401 (crew is a fixture)

BAD_SIGNALS = [
    ({"kind": "tab_hidden"}, "missing duration"),
    ({"kind": "tab_hidden", "seconds": -3}, "negative"),
    ({"kind": "window_blur", "seconds": 10**9}, "absurd"),
    ({"kind": "window_blur", "seconds": "12"}, "a string"),
    ({"kind": "tab_hidden", "seconds": True}, "a boolean"),
    ({"kind": "copy", "seconds": 5}, "a duration on a kind without one"),
    ({"kind": ["copy"]}, "a list for a kind"),
    ("copy", "not an object"),
    (None, "nothing"),
]


def incidents(app, **where):
    with runtime_of(app).sessions() as s:
        query = select(models.Incident).order_by(models.Incident.id)
        for name, value in where.items():
            query = query.where(getattr(models.Incident, name) == value)
        return list(s.scalars(query))


def test_bad_signals_are_refused_and_not_recorded(app, candidate):
    c = candidate(3)
    c.login()
    c.start()
    sock = exam_socket(app, c)
    before = len(incidents(app, kind="tab_hidden")) + len(incidents(app, kind="copy"))
    for payload, why in BAD_SIGNALS:
        reply = sock.emit("signal", payload, namespace="/exam", callback=True)
        assert reply["error"] == "bad_signal" and reply["message"], why
    assert len(incidents(app, kind="tab_hidden")) + len(incidents(app, kind="copy")) == before


def test_a_flood_of_signals_is_limited_and_counted_into_one_incident_per_kind(app, candidate, exam):
    c = candidate(3)
    c.login()
    c.start()
    sock = exam_socket(app, c)
    replies = [sock.emit("signal", {"kind": "copy"}, namespace="/exam", callback=True) for _ in range(300)]
    recorded = [r for r in replies if r.get("recorded")]
    limited = [r for r in replies if r.get("error") == "rate_limited"]
    assert len(recorded) <= signals.BUDGET_BURST + 2 and len(recorded) + len(limited) == 300
    copies = incidents(app, kind="copy")
    assert len(copies) == 1, "one incident per candidate and kind within the window"
    assert copies[0].detail["count"] == len(recorded)
    exam.clock.advance(seconds=20)  # the budget refills (a person's pace), the copy window still open
    for _ in range(4):
        assert sock.emit("signal", {"kind": "tab_hidden", "seconds": 4.0}, namespace="/exam", callback=True) == {
            "recorded": True
        }
    (away,) = incidents(app, kind="tab_hidden")
    assert away.detail["count"] == 4 and away.detail["seconds"] == 16.0, "count and total time away"
    exam.clock.advance(seconds=signals.COALESCE_SECONDS + 1)  # a new window: a new incident
    assert sock.emit("signal", {"kind": "copy"}, namespace="/exam", callback=True) == {"recorded": True}
    assert len(incidents(app, kind="copy")) == 2


def test_the_record_keeps_every_event_of_the_session_and_the_dashboard_pages_them(app, candidate, crew):  # noqa: F811
    c = candidate(3)
    c.login()
    c.start()
    proctor, headers = staff_login(app, "p1")
    room = crew["room"]
    view = proctor.get(f"/api/v1/proctor/rooms/{room}").json
    session_id = view["session"]["id"]
    for n in range(130):  # proctors' notes, more than a page
        body = {"category": "其他", "text": f"记录 {n}", "session_id": session_id}
        assert proctor.post(f"/api/v1/proctor/rooms/{room}/incidents", json=body, headers=headers).status_code == 200
    view = proctor.get(f"/api/v1/proctor/rooms/{room}").json
    assert len(view["events"]) == 100 and view["events_more"] is True
    seen = [e["id"] for e in view["events"]]
    while True:
        page = proctor.get(f"/api/v1/proctor/rooms/{room}/events?session={session_id}&before={seen[-1]}").json
        seen += [e["id"] for e in page["events"]]
        if not page["more"]:
            break
    with runtime_of(app).sessions() as s:
        stored = s.scalar(
            select(func.count())
            .select_from(models.Incident)
            .where(models.Incident.room_id == room, models.Incident.session_id == session_id)
        )
    assert len(seen) == len(set(seen)) == stored >= 130
    signing = proctor.post(f"/api/v1/proctor/rooms/{room}/sign", json={"session_id": session_id}, headers=headers)
    assert signing.status_code == 200
    record = proctor.get(f"/proctor/rooms/{room}/record?session={session_id}&format=json").json
    assert record["signed"] and len(record["events"]) == stored, "the signed record holds every event"
    with runtime_of(app).sessions() as s:  # the audit log's count and head as signed, also in the file
        head = s.scalar(select(models.AuditEvent).where(models.AuditEvent.action == "room.sign"))
        count = s.scalar(select(func.count()).select_from(models.AuditEvent).where(models.AuditEvent.id <= head.id))
    assert record["signatures"][0]["audit"] == {"count": count, "head": head.hash, "at": head.at.isoformat()}
    (line,) = (runtime_of(app).config.instance_path / "audit_anchors.jsonl").read_text().splitlines()
    assert json.loads(line)["head"] == head.hash
    assert {f"[其他] 记录 {n}" for n in range(130)} <= {e["text"] for e in record["events"]}
    page = proctor.get(f"/proctor/rooms/{room}/record?session={session_id}").get_data(as_text=True)
    assert "记录 0" in page and "记录 129" in page


def test_a_record_cannot_be_written_or_signed_under_another_batchs_session(app, candidate, crew, exam):  # noqa: F811
    proctor, headers = staff_login(app, "p1")
    room = crew["room"]
    with runtime_of(app).sessions() as s:
        own = s.scalar(select(models.Room).where(models.Room.id == room))
        foreign = s.scalar(select(models.ExamSession.id).where(models.ExamSession.batch_id != own.batch_id))
        missing = (s.scalar(select(func.max(models.ExamSession.id))) or 0) + 1000
    for session_id in (foreign, missing):
        if session_id is None:
            continue
        note = {"category": "其他", "text": "x", "session_id": session_id}
        response = proctor.post(f"/api/v1/proctor/rooms/{room}/incidents", json=note, headers=headers)
        assert response.status_code == 404 and response.json["error"] == "session_not_in_batch"
        response = proctor.post(f"/api/v1/proctor/rooms/{room}/sign", json={"session_id": session_id}, headers=headers)
        assert response.status_code == 404 and response.json["error"] == "session_not_in_batch"
    assert not incidents(app, kind="proctor_record")
