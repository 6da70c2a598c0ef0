"""Socket.IO with Flask-SocketIO's test client: authenticated connections, authorised events, pushes after commits."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from cbt.adapters import tokens
from cbt.db import models
from cbt.db.session import transaction
from cbt.runtime import of as runtime_of
from cbt.services import candidates, staff


@pytest.fixture
def crew(app, exam):
    """A proctor of R01 and a supervisor, signed in over HTTP."""
    with runtime_of(app).sessions() as s, transaction(s):
        room = s.scalar(select(models.Room).order_by(models.Room.id))
        other = models.Room(batch_id=room.batch_id, code="R99", name="第99考场")
        s.add(other)
        s.flush()
        proctor, _ = staff.create_staff(s, "p1", "张监考", "proctor", "password-123", now=exam.clock(), actor="t")
        supervisor, _ = staff.create_staff(
            s, "sup", "李督导", "supervisor", "password-123", now=exam.clock(), actor="t"
        )
        staff.assign(s, "p1", room.id, now=exam.clock(), actor="t")
        return {"room": room.id, "other": other.id, "proctor": proctor, "supervisor": supervisor}


def monitor(app, member):
    """A dashboard's socket of a signed-in session of ``member`` (its token names the session)."""
    now = runtime_of(app).now()
    signed_in, _ = runtime_of(app).writer.run(staff.open_login, member, now=now, ip=None, user_agent=None)
    token = tokens.issue(app.config["SECRET_KEY"], "staff", member.id, login=signed_in.login_id)
    return app.extensions["socketio"].test_client(app, namespace="/monitor", auth={"token": token})


def exam_socket(app, c):
    status = c.get("/api/v1/candidate/status").json
    return app.extensions["socketio"].test_client(
        app, namespace="/exam", auth={"token": status["socket_token"]}, flask_test_client=c.client
    )


def staff_login(app, username, password="password-123"):
    """A staff member signed in over HTTP: their client, and the CSRF header their actions carry."""
    client = app.test_client()
    page = client.get("/staff/login")
    csrf = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/staff/login", data={"username": username, "password": password, "csrf_token": csrf})
    if response.status_code != 302:
        return response, None
    with client.session_transaction() as s:
        return client, {"X-CSRF-Token": s["staff_csrf"]}


def received(client, namespace, name, timeout=2.0):
    """Events of one name received so far (waiting briefly for the coalesced tile broadcaster)."""
    deadline = time.monotonic() + timeout
    found = []
    while time.monotonic() < deadline:
        found += [e for e in client.get_received(namespace) if e["name"] == name]
        if found:
            return found
        time.sleep(0.05)
    return found


def test_connections_need_a_valid_token_of_the_right_kind(app, candidate, crew):
    sio = app.extensions["socketio"]
    assert not sio.test_client(app, namespace="/exam", auth={"token": "forged"}).is_connected("/exam")
    assert not sio.test_client(app, namespace="/exam").is_connected("/exam")
    c = candidate(3)
    c.login()
    candidate_token = c.get("/api/v1/candidate/status").json["socket_token"]
    assert not sio.test_client(app, namespace="/monitor", auth={"token": candidate_token}).is_connected("/monitor")
    staff_token = tokens.issue(app.config["SECRET_KEY"], "staff", crew["proctor"].id)
    assert not sio.test_client(app, namespace="/exam", auth={"token": staff_token}).is_connected("/exam")
    expired = tokens.issue(app.config["SECRET_KEY"], "staff", crew["proctor"].id)
    with pytest.raises(Exception, match="过期"):
        tokens.verify(app.config["SECRET_KEY"], expired, "staff", max_age=-1)
    assert exam_socket(app, c).is_connected("/exam")


def test_a_proctor_watches_only_their_rooms(app, crew):
    mon = monitor(app, crew["proctor"])
    assert mon.is_connected("/monitor")
    own = mon.emit("watch", {"room_id": crew["room"]}, namespace="/monitor", callback=True)
    assert own["snapshot"]["room"]["id"] == crew["room"]
    other = mon.emit("watch", {"room_id": crew["other"]}, namespace="/monitor", callback=True)
    assert other["error"] == "not_your_room"
    assert mon.emit("watch", {"room_id": "1"}, namespace="/monitor", callback=True)["error"] == "bad_room_id"
    sup = monitor(app, crew["supervisor"])
    assert sup.emit("watch", {"room_id": crew["other"]}, namespace="/monitor", callback=True)["snapshot"]


def test_page_signals_reach_the_proctor_and_thresholds_apply(app, candidate, crew):
    mon = monitor(app, crew["proctor"])
    mon.emit("watch", {"room_id": crew["room"]}, namespace="/monitor", callback=True)
    c = candidate(3)
    c.login()
    c.start()
    sock = exam_socket(app, c)
    kinds: list[str] = []  # the page's presence is published once committed; the connection did not wait
    deadline = time.monotonic() + 3
    while "reconnected" not in kinds and time.monotonic() < deadline:
        kinds += [e["args"][0]["kind"] for e in received(mon, "/monitor", "event", timeout=0.2)]
    assert "reconnected" in kinds
    mon.get_received("/monitor")
    assert sock.emit("signal", {"kind": "tab_hidden", "seconds": 1.0}, namespace="/exam", callback=True) == {
        "recorded": False
    }
    assert sock.emit("signal", {"kind": "tab_hidden", "seconds": 9.5}, namespace="/exam", callback=True) == {
        "recorded": True
    }
    assert sock.emit("signal", {"kind": "rm -rf"}, namespace="/exam", callback=True)["error"] == "bad_signal"
    assert not sock.emit("watch", {"room_id": crew["room"]}, namespace="/exam", callback=True), "no proctor events here"
    events = received(mon, "/monitor", "event")
    assert [e["args"][0]["kind"] for e in events] == ["tab_hidden"]
    assert "9 秒" in events[0]["args"][0]["text"] or "10 秒" in events[0]["args"][0]["text"]
    tiles = received(mon, "/monitor", "tiles")
    assert tiles and tiles[-1]["args"][0]["tiles"][0]["incidents"] >= 1


def test_proctor_actions_over_http_are_pushed_to_the_candidate(app, candidate, crew, exam):
    c = candidate(3)
    c.login()
    c.start()
    sock = exam_socket(app, c)
    bad, _ = staff_login(app, "p1", "wrong-password")
    assert bad.status_code == 401 and "用户名或密码不正确" in bad.get_data(as_text=True)
    staff_client, headers = staff_login(app, "p1")
    cid = c.get("/api/v1/candidate/status")  # the candidate's id is not exposed; find it via the dashboard
    tiles = staff_client.get(f"/api/v1/proctor/rooms/{crew['room']}").json["tiles"]
    target = next(t for t in tiles if t["ticket"] == c.spec.ticket)["candidate_id"]
    assert cid.status_code == 200
    no_csrf = staff_client.post(
        f"/api/v1/proctor/rooms/{crew['room']}/extend", json={"candidate_id": target, "minutes": 10, "reason": "x"}
    )
    assert no_csrf.status_code == 403
    response = staff_client.post(
        f"/api/v1/proctor/rooms/{crew['room']}/extend",
        json={"candidate_id": target, "minutes": 10, "reason": "设备故障"},
        headers=headers,
    )
    assert response.status_code == 200
    pushed = [e for e in sock.get_received("/exam") if e["name"] == "time"]
    assert pushed and pushed[0]["args"][0]["remaining_seconds"] == 100 * 60
    assert c.attempt().json["remaining_seconds"] == 100 * 60
    elsewhere = staff_client.post(
        f"/api/v1/proctor/rooms/{crew['other']}/extend", json={"minutes": 10, "reason": "x"}, headers=headers
    )
    assert (elsewhere.status_code, elsewhere.json["error"]) == (403, "not_your_room")
    broadcast = staff_client.post(
        f"/api/v1/proctor/rooms/{crew['room']}/message", json={"text": "请检查答题卡"}, headers=headers
    )
    message_id = broadcast.json["message_id"]
    msg = next(e for e in sock.get_received("/exam") if e["name"] == "notice")["args"][0]
    assert msg["text"] == "请检查答题卡" and msg["broadcast"] is True
    assert sock.emit("ack", {"message_id": message_id}, namespace="/exam", callback=True) == {"acknowledged": True}
    assert sock.emit("ack", {"message_id": "x"}, namespace="/exam", callback=True)["error"] == "bad_message_id"
    with runtime_of(app).sessions() as s, transaction(s):  # the proctor takes a second room too
        staff.assign(s, "p1", crew["other"], now=exam.clock(), actor="t")
    sock.get_received("/exam")
    elsewhere = staff_client.post(
        f"/api/v1/proctor/rooms/{crew['other']}/message", json={"text": "别的考场"}, headers=headers
    )
    assert elsewhere.status_code == 200
    assert not [e for e in sock.get_received("/exam") if e["name"] == "notice"], "a broadcast stays in its room"


def test_a_candidate_cannot_use_the_proctor_api(app, candidate, crew):
    c = candidate(3)
    c.login()
    response = c.post(f"/api/v1/proctor/rooms/{crew['room']}/extend", json={"minutes": 10, "reason": "x"})
    assert (response.status_code, response.json["error"]) == (401, "not_logged_in")
    assert c.get(f"/api/v1/proctor/rooms/{crew['room']}").status_code == 401
    assert c.get(f"/proctor/rooms/{crew['room']}").status_code == 302


def test_a_second_login_reaches_the_proctor_at_once(app, candidate, crew):
    mon = monitor(app, crew["proctor"])
    mon.emit("watch", {"room_id": crew["room"]}, namespace="/monitor", callback=True)
    first, second = candidate(3), candidate(3)
    first.login()
    mon.get_received("/monitor")
    second.login()
    events = [e["args"][0] for e in received(mon, "/monitor", "event")]
    assert [e["kind"] for e in events] == ["second_login"]


def test_the_staffing_line_follows_the_proctors_and_a_broadcast_alone_refreshes_no_tile(app, candidate, crew):
    sup = monitor(app, crew["supervisor"])  # a supervisor watches without counting as the room's staff
    sup.emit("watch", {"room_id": crew["room"]}, namespace="/monitor", callback=True)
    mon = monitor(app, crew["proctor"])
    mon.emit("watch", {"room_id": crew["room"]}, namespace="/monitor", callback=True)
    came = received(sup, "/monitor", "tiles")
    assert came and came[-1]["args"][0]["staffing"]["present"] == 1
    staff_client, headers = staff_login(app, "p1")
    sent = staff_client.post(
        f"/api/v1/proctor/rooms/{crew['room']}/message", json={"text": "请检查答题卡"}, headers=headers
    )
    assert sent.status_code == 200
    assert [e["args"][0]["kind"] for e in received(sup, "/monitor", "event")] == ["message"]
    assert not received(sup, "/monitor", "tiles", timeout=1.0), "no tile changed: no room view recomputed"
    mon.disconnect(namespace="/monitor")
    left = received(sup, "/monitor", "tiles")
    assert left and left[-1]["args"][0]["staffing"]["present"] == 0


def test_the_exam_administrator_broadcasts_to_every_room_over_http(app, candidate, crew, exam):
    with runtime_of(app).sessions() as s, transaction(s):
        staff.create_staff(s, "chief", "王考务", "admin", "password-123", now=exam.clock(), actor="t")
        batch_id = s.get(models.Room, crew["room"]).batch_id
    c = candidate(3)
    c.login()
    c.start()
    sock = exam_socket(app, c)
    sock.get_received("/exam")
    url = f"/api/v1/proctor/batches/{batch_id}/message"
    proctor, proctor_headers = staff_login(app, "p1")
    refused = proctor.post(url, json={"text": "请检查答题卡"}, headers=proctor_headers)
    assert (refused.status_code, refused.json["error"]) == (403, "admins_only")
    chief, headers = staff_login(app, "chief")
    assert chief.post(url, json={"text": "请检查答题卡"}).status_code == 403, "no CSRF token, no broadcast"
    empty = chief.post(url, json={"text": " "}, headers=headers)
    assert (empty.status_code, empty.json["error"]) == (422, "text_required")
    missing = chief.post(f"/api/v1/proctor/batches/{batch_id + 99}/message", json={"text": "x"}, headers=headers)
    assert (missing.status_code, missing.json["error"]) == (404, "batch_not_found")
    assert not [e for e in sock.get_received("/exam") if e["name"] == "notice"], "nothing refused reaches a page"
    sent = chief.post(url, json={"text": "请检查答题卡"}, headers=headers)
    assert sent.status_code == 200 and sent.json["rooms"] == 2  # R01 and R99
    (notice,) = [e["args"][0] for e in sock.get_received("/exam") if e["name"] == "notice"]
    assert notice["text"] == "请检查答题卡" and notice["broadcast"] is True
    assert sock.emit("ack", {"message_id": notice["id"]}, namespace="/exam", callback=True) == {"acknowledged": True}

    page = chief.get("/proctor").get_data(as_text=True)  # the same from the rooms page's form
    assert "考务广播" in page and f"/proctor/batches/{batch_id}/message" in page
    csrf = headers["X-CSRF-Token"]
    form = chief.post(f"/proctor/batches/{batch_id}/message", data={"text": "还有十五分钟", "csrf_token": csrf})
    assert form.status_code == 200 and "已向 2 个考场的全部考生广播" in form.get_data(as_text=True)
    assert [e["args"][0]["text"] for e in sock.get_received("/exam") if e["name"] == "notice"] == ["还有十五分钟"]
    blank = chief.post(f"/proctor/batches/{batch_id}/message", data={"text": "", "csrf_token": csrf})
    assert blank.status_code == 422 and "请填写消息内容" in blank.get_data(as_text=True)
    assert "考务广播" not in proctor.get("/proctor").get_data(as_text=True), "only administrators see the form"


def test_starting_answering_and_handing_in_over_the_live_channel(app, candidate):
    """The page's way while its channel is up: the same use cases and answers as the HTTP API."""
    c = candidate(3)
    c.login()
    sock = exam_socket(app, c)
    early = sock.emit("submit", {}, namespace="/exam", callback=True)
    assert (early["error"], early["status"]) == ("attempt_not_started", 409)
    started = sock.emit("start", {}, namespace="/exam", callback=True)
    paper = json.loads(started["paper"])
    assert paper == c.attempt().json, "the same paper as the HTTP API's (never a key)"
    q = next(q for item in paper["items"] for q in item.get("questions", [item]))
    first = q["options"][0]["id"]
    saved = sock.emit("save", {"question_id": q["id"], "answer": [first], "seq": 1}, namespace="/exam", callback=True)
    assert saved["seq"] == 1 and not saved["stale"]
    for bad, code in [
        ("x", "bad_json"),
        ({"question_id": 7, "answer": [first], "seq": 2}, "bad_question_id"),
        ({"question_id": "NOPE", "answer": [first], "seq": 2}, "unknown_question"),
        ({"question_id": q["id"], "answer": [first], "seq": 0}, "invalid_seq"),
        ({"question_id": q["id"], "answer": ["Z"], "seq": 2}, None),
    ]:
        refused = sock.emit("save", bad, namespace="/exam", callback=True)
        assert refused["status"] in (400, 404, 409, 422) and refused["error"] == (code or refused["error"]), bad
    assert c.attempt().json["responses"] == {q["id"]: {"answer": [first], "seq": 1}}, "nothing refused was stored"
    submitted = sock.emit("submit", {}, namespace="/exam", callback=True)
    assert submitted["receipt"] and c.submit().json["receipt"] == submitted["receipt"], "handing in twice is once"
    late = sock.emit("save", {"question_id": q["id"], "answer": [first], "seq": 3}, namespace="/exam", callback=True)
    assert (late["error"], late["status"]) == ("attempt_closed", 409)


def test_the_live_channel_of_a_replaced_login_can_no_longer_act(app, candidate):
    first = candidate(3)
    first.login()
    sock = exam_socket(app, first)
    candidate(3).login()  # the same candidate logs in on another seat: this process drops the old channel
    assert not sock.is_connected("/exam")


def test_every_event_of_a_channel_whose_login_ended_elsewhere_is_refused(app, candidate):
    """A login ended by another process (or the command line) before this one's check drops the socket."""
    first = candidate(3)
    first.login()
    sock = exam_socket(app, first)
    with runtime_of(app).sessions() as s:
        token = s.scalar(select(models.CandidateLogin.token).order_by(models.CandidateLogin.id.desc()))
    runtime_of(app).writer.run(candidates.logout, token, now=runtime_of(app).now())
    for event, payload in (
        ("start", {}),
        ("submit", {}),
        ("save", {"question_id": "X", "answer": [], "seq": 1}),
        ("signal", {"kind": "copy"}),
        ("ack", {"message_id": 1}),
    ):
        refused = sock.emit(event, payload, namespace="/exam", callback=True)
        assert (refused["error"], refused["status"]) == ("not_logged_in", 401), event
    runtime_of(app).broadcast.check_logins()  # the periodic check
    assert not sock.is_connected("/exam")
