"""Staff pages (sign-in, room list, live room dashboard, printable room record) and the proctor API.

Every request is checked on the server: signed-in staff only; the room check (proctor: own rooms;
supervisor: any room, read-only) is done by the service. Actions need the staff CSRF token and run
in the writer; their effects are published after the commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import select

from cbt import anchors, i18n, inputs
from cbt.adapters import tokens
from cbt.core.errors import CbtError, Unauthorized
from cbt.core.events import MessageSent, Outcome
from cbt.db import models
from cbt.services import audit, proctoring, staff
from cbt.web.api import json_body
from cbt.web.auth import check_csrf
from cbt.web.context import act, db, now, runtime, write

pages = Blueprint("proctor", __name__)
api = Blueprint("proctor_api", __name__, url_prefix="/api/v1/proctor")
STAFF_KEY = "staff_id"
CSRF_KEY = "staff_csrf"


def current_staff() -> staff.StaffInfo:
    """The staff member of this request's live session (asked of the database every request)."""
    if "staff" not in g:
        g.staff = staff.authenticate(db(), session.get(STAFF_KEY))
    return g.staff


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            current_staff()
        except Unauthorized:
            if request.blueprint == "proctor":  # a page: back to the sign-in form
                session.pop(STAFF_KEY, None)
                return redirect(url_for("proctor.login_page"))
            raise
        check_csrf(str(session.get(CSRF_KEY, "")))
        return view(*args, **kwargs)

    return wrapper


# --- pages ------------------------------------------------------------------------------------------


@pages.route("/staff/login", methods=["GET", "POST"])
def login_page():
    error = None
    if request.method == "POST":
        username, password = request.form.get("username", "").strip(), request.form.get("password", "")
        try:
            check_csrf(str(session.get(CSRF_KEY, "")))
            member = runtime().login_limiter.staff(
                username, request.remote_addr, lambda: staff.sign_in(db(), username, password)
            )
            where = {"ip": request.remote_addr, "user_agent": request.user_agent.string}
            _, token = write(staff.open_login, member, now=now(), **where)
        except CbtError as exc:
            error = i18n.render(exc)
        else:
            session.clear()
            session[STAFF_KEY] = token
            session[CSRF_KEY] = secrets.token_urlsafe(32)
            return redirect(url_for("proctor.rooms_page"))
    session.setdefault(CSRF_KEY, secrets.token_urlsafe(32))
    return render_template("proctor/login.html", error=error, csrf_token=session[CSRF_KEY]), 401 if error else 200


@pages.post("/staff/logout")
@staff_required
def logout():
    member = current_staff()
    write(staff.sign_out, member, now=now())
    runtime().broadcast.logins_ended(staff=[member.login_id])
    session.clear()
    return redirect(url_for("proctor.login_page"))


@pages.get("/proctor")
@staff_required
def rooms_page():
    return _rooms_page()


def _rooms_page(notice: str | None = None, error: str | None = None, status: int = 200) -> tuple[str, int]:
    """The staff member's rooms (an administrator's: every room, with the 考务广播 form)."""
    member = current_staff()
    rooms = staff.rooms_for(db(), member)
    batches = {
        b.id: b for b in db().scalars(select(models.Batch).where(models.Batch.id.in_({r.batch_id for r in rooms})))
    }
    page = render_template(
        "proctor/rooms.html",
        staff=member,
        rooms=rooms,
        batches=batches,
        csrf_token=session[CSRF_KEY],
        notice=notice,
        error=error,
    )
    return page, status


def _message_all(batch_id: int, text: object) -> int:
    """考务广播 to every room of the batch: how many rooms it went to."""
    return len(act(proctoring.message_all, current_staff(), batch_id, text, now()).of(MessageSent))


@pages.post("/proctor/batches/<int:batch_id>/message")
@staff_required
def message_all_page(batch_id: int):
    try:
        rooms = _message_all(batch_id, request.form.get("text"))
    except CbtError as exc:
        return _rooms_page(error=i18n.render(exc), status=exc.status)
    return _rooms_page(notice=i18n.gettext("已向 %(rooms)s 个考场的全部考生广播", rooms=rooms))


@pages.get("/proctor/rooms/<int:room_id>")
@staff_required
def room_page(room_id: int):
    member = current_staff()
    staff.check_room(db(), member, room_id, act=False)
    token = tokens.issue(runtime().config.secret_key, "staff", member.id, login=member.login_id)
    can_act = member.role in ("proctor", "admin")
    return render_template(
        "proctor/room.html",
        staff=member,
        room_id=room_id,
        socket_token=token,
        csrf_token=session[CSRF_KEY],
        can_act=can_act,
    )


@pages.get("/proctor/rooms/<int:room_id>/record")
@staff_required
def record_page(room_id: int):
    exam_session = inputs.query_id(request.args.get("session"), "session")
    record = proctoring.room_record(db(), current_staff(), room_id, exam_session, now())
    if request.args.get("format") == "json":
        return jsonify(record)
    return render_template("proctor/record.html", record=record)


# --- API ----------------------------------------------------------------------------------------------


@api.get("/rooms/<int:room_id>")
@staff_required
def room_view(room_id: int):
    exam_session = inputs.query_id(request.args.get("session"), "session")
    return jsonify(proctoring.room_view(db(), current_staff(), room_id, exam_session, now()))


@api.get("/rooms/<int:room_id>/events")
@staff_required
def room_events(room_id: int):
    """A page of the room's events in one session's record, older than event ``before``."""
    args = request.args
    events, more = proctoring.events_page(
        db(),
        current_staff(),
        room_id,
        inputs.query_id(args.get("session"), "session"),
        inputs.query_id(args.get("before"), "before"),
    )
    return jsonify({"events": events, "more": more})


def _act(action: Callable[..., Outcome], *args: Any) -> Response:
    return jsonify({"status": "ok", **act(action, current_staff(), *args, now()).result})


@api.post("/rooms/<int:room_id>/admit")
@staff_required
def admit(room_id: int):
    return _act(proctoring.admit, room_id, json_body(inputs.ForCandidate).candidate_id)


@api.post("/rooms/<int:room_id>/start")
@staff_required
def start_room(room_id: int):
    return _act(proctoring.start_room, room_id)


@api.post("/rooms/<int:room_id>/pause")
@staff_required
def pause(room_id: int):
    data = json_body(inputs.WithReason)
    return _act(proctoring.pause, room_id, data.candidate_id, data.reason)


@api.post("/rooms/<int:room_id>/resume")
@staff_required
def resume(room_id: int):
    return _act(proctoring.resume, room_id, json_body(inputs.ForCandidate).candidate_id)


@api.post("/rooms/<int:room_id>/extend")
@staff_required
def extend(room_id: int):
    data = json_body(inputs.Extend)
    return _act(proctoring.extend, room_id, data.candidate_id, data.minutes, data.reason)


@api.post("/rooms/<int:room_id>/message")
@staff_required
def message(room_id: int):
    data = json_body(inputs.Message)
    return _act(proctoring.message, room_id, data.candidate_id, data.text)


@api.post("/batches/<int:batch_id>/message")
@staff_required
def message_all(batch_id: int):
    return jsonify({"status": "ok", "rooms": _message_all(batch_id, json_body(inputs.BatchMessage).text)})


@api.post("/rooms/<int:room_id>/submit")
@staff_required
def force_submit(room_id: int):
    data = json_body(inputs.OneWithReason)
    return _act(proctoring.force_submit, room_id, data.candidate_id, data.reason)


@api.post("/rooms/<int:room_id>/terminations")
@staff_required
def request_termination(room_id: int):
    data = json_body(inputs.OneWithReason)
    return _act(proctoring.request_termination, room_id, data.candidate_id, data.reason)


@api.post("/rooms/<int:room_id>/terminations/<int:termination_id>/confirm")
@staff_required
def confirm_termination(room_id: int, termination_id: int):
    return _act(proctoring.confirm_termination, room_id, termination_id)


@api.post("/rooms/<int:room_id>/move")
@staff_required
def move(room_id: int):
    data = json_body(inputs.Move)
    return _act(proctoring.move_seat, room_id, data.candidate_id, data.seat, data.reason)


@api.post("/rooms/<int:room_id>/unlock")
@staff_required
def lift_lockout(room_id: int):
    unlock = runtime().login_limiter.unlock_ticket
    return _act(proctoring.lift_lockout, room_id, json_body(inputs.ForOneCandidate).candidate_id, unlock)


@api.post("/rooms/<int:room_id>/incidents")
@staff_required
def record_incident(room_id: int):
    data = json_body(inputs.Note)
    args = (data.candidate_id, data.category, data.text, data.session_id)
    return _act(proctoring.record_incident, room_id, *args)


@api.post("/rooms/<int:room_id>/sign")
@staff_required
def sign(room_id: int):
    response = _act(proctoring.sign_record, room_id, json_body(inputs.Sign).session_id)
    anchor = audit.Anchor(**response.json["audit"])  # type: ignore[index]
    anchors.append(runtime().config.instance_path, anchor, f"room:{room_id} signed")
    return response
