"""The candidate JSON API (/api/v1/candidate/...): stable, used by the exam page, kiosks and scripts.

Handlers only translate: parse and check the input, call one service, answer JSON. Errors are JSON
``{"error": code, "message": 中文}`` (see errors.py); the OpenAPI description is at /api/openapi.json.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify, request, session

from cbt import inputs
from cbt.adapters import tokens
from cbt.core.errors import BadRequest, InvalidInput
from cbt.services import attempts, candidates
from cbt.web.auth import SESSION_KEY, candidate_required, current_login
from cbt.web.context import act, candidate_act, db, now, runtime, write
from cbt.web.openapi import OPENAPI

bp = Blueprint("api", __name__, url_prefix="/api")
T = TypeVar("T", bound=inputs.Schema)
SAVE_BODY_LIMIT = 4 * 1024  # one answer is a few bytes; anything near this is not an answer


def _json(text: str) -> Any:
    """A response of JSON already encoded (the paper is put together from pieces encoded once)."""
    return current_app.response_class(text, mimetype="application/json")


def json_body(schema: type[T], limit: int | None = None) -> T:
    """The request's JSON body as ``schema`` (cbt.inputs: bounded, typed), or a typed 4xx."""
    if limit is not None:
        request.max_content_length = limit
    if not request.is_json:
        raise BadRequest("请求内容必须是 JSON（Content-Type: application/json）", code="bad_json")
    return inputs.check(schema, inputs.loads(request.get_data(cache=False)))


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@bp.post("/v1/candidate/login")
def login():
    data = json_body(inputs.Login, limit=4096)
    ticket, id_number = data.ticket, data.id_number
    if not ticket or not id_number or not ticket.strip() or not id_number.strip():
        raise InvalidInput("请输入准考证号和身份证号", code="missing_credentials")
    rt = runtime()
    info, events = rt.login_limiter.candidate(
        ticket.strip(),
        request.remote_addr,
        lambda: write(
            candidates.login, ticket, id_number, now=now(), ip=request.remote_addr, user_agent=request.user_agent.string
        ),
    )
    rt.broadcast.publish(events)
    rt.broadcast.logins_ended(candidates=info.replaced)  # the old page's sockets
    session.clear()
    session[SESSION_KEY] = info.token
    session.permanent = True
    return jsonify({"candidate": attempts.candidate_info(db(), info.candidate_id), "csrf_token": info.csrf_token})


@bp.post("/v1/candidate/logout")
@candidate_required
def logout():
    login = current_login()
    write(candidates.logout, login.token, now=now())
    runtime().broadcast.logins_ended(candidates=[login.login_id])
    session.clear()
    return jsonify({"status": "logged_out"})


@bp.get("/v1/candidate/status")
@candidate_required
def status():
    login = current_login()
    socket_token = tokens.issue(runtime().config.secret_key, "candidate", login.candidate_id, login=login.login_id)
    view = attempts.status(db(), login.candidate_id, now())
    return jsonify({**view, "csrf_token": login.csrf_token, "socket_token": socket_token})


@bp.post("/v1/candidate/attempt/start")
@candidate_required
def start():
    login = current_login()
    candidate_act(login, attempts.start, now())
    return _json(attempts.attempt_json(db(), login.candidate_id, now()).text)


@bp.get("/v1/candidate/attempt")
@candidate_required
def attempt():
    candidate_id = current_login().candidate_id
    paper = attempts.attempt_json(db(), candidate_id, now())
    if paper.overdue:  # time ran out and the sweeper has not come round yet: submit now
        act(attempts.expire_overdue, now(), [paper.attempt_id])
        paper = attempts.attempt_json(db(), candidate_id, now())
    return _json(paper.text)


@bp.put("/v1/candidate/attempt/responses/<question_id>")
@candidate_required
def save(question_id: str):
    data = json_body(inputs.Save, limit=SAVE_BODY_LIMIT)
    login = current_login()
    return jsonify(candidate_act(login, attempts.save_response, question_id, data.answer, data.seq, now()))


@bp.post("/v1/candidate/attempt/submit")
@candidate_required
def submit():
    return jsonify(candidate_act(current_login(), attempts.submit, now()))


def register(app: Any) -> None:
    app.register_blueprint(bp)
    app.permanent_session_lifetime = timedelta(hours=12)
