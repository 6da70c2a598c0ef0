"""The candidate's channel (/exam): pushes about their own attempt; page signals, message receipts,
and the candidate's own commands (开始考试, each answer, 交卷) in. Handlers only translate: check the
token or the event, call the runtime."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

import socketio
from flask_socketio import ConnectionRefusedError
from sqlalchemy.orm import Session

from cbt import i18n, inputs
from cbt.adapters import tokens
from cbt.core import signals
from cbt.core.errors import CbtError, TooManyRequests, Unauthorized
from cbt.realtime import Realtime
from cbt.realtime.channels import (
    auth_token,
    candidate_channel,
    error_reply,
    room_candidates_channel,
    server_error,
    socket_locale,
    sockets_by_login,
)
from cbt.services import attempts, candidates, proctoring
from cbt.services.candidates import LoginInfo

log = logging.getLogger(__name__)
Reply = Mapping[str, Any]  # what an event answers: an API answer, or an error's code and message
MAX_CONNECTIONS = 3  # live channels one login may hold open in a process (a page, a reload, a spare)


class ExamNamespace(socketio.Namespace):
    """A plain python-socketio namespace: Flask-SocketIO would build a Flask request context and copy
    the cookie session for every event of every candidate (a start storm, a room acknowledging a
    message at once), and the channel authenticates by its signed token, not by the Flask session."""

    def __init__(self, namespace: str, realtime: Realtime) -> None:
        super().__init__(namespace)
        self.rt = realtime
        self.runtime = realtime.runtime
        self.who: dict[str, LoginInfo] = {}  # sid -> the login that opened it
        # login id -> its page signals' budget: one per login, not per connection (a page that is
        # dropped for flooding and connects again does not start afresh)
        self.budgets: dict[int, signals.Budget] = {}
        self.per_login: dict[int, int] = defaultdict(int)  # login id -> its open sockets in this process
        self.locales: dict[str, str] = {}  # sid -> its page's language, where not the default (Chinese)

    def _locale(self, sid: str) -> str:
        return self.locales.get(sid, i18n.DEFAULT_LOCALE)

    def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        locale = socket_locale(auth, environ)
        try:
            data = tokens.verify(self.runtime.config.secret_key, auth_token(auth), "candidate")
            with self.runtime.sessions() as session:
                login = candidates.authenticate_id(session, data["login"])
        except CbtError as exc:
            raise ConnectionRefusedError(error_reply(exc, locale)) from exc
        if self.per_login.get(login.login_id, 0) >= MAX_CONNECTIONS:
            refused = TooManyRequests("该考生的实时连接过多，请关闭多余的考试页面", code="too_many_connections")
            raise ConnectionRefusedError(error_reply(refused, locale))
        self.who[sid] = login
        if locale != i18n.DEFAULT_LOCALE:
            self.locales[sid] = locale
        self.per_login[login.login_id] += 1
        self.enter_room(sid, candidate_channel(login.candidate_id))
        self.enter_room(sid, room_candidates_channel(login.room_id))
        self.rt.connections[login.candidate_id] += 1
        if self.rt.connections[login.candidate_id] == 1:
            self._presence(login.candidate_id, True)

    def on_disconnect(self, sid: str, reason: Any = None) -> None:
        login = self.who.pop(sid, None)
        self.locales.pop(sid, None)
        if login is None:
            return
        self.per_login[login.login_id] -= 1
        if self.per_login[login.login_id] <= 0:
            del self.per_login[login.login_id]
        candidate_id = login.candidate_id
        self.rt.connections[candidate_id] -= 1
        if self.rt.connections[candidate_id] <= 0:
            self.rt.connections.pop(candidate_id, None)
            self._presence(candidate_id, False)

    def _presence(self, candidate_id: int, online: bool) -> None:
        """Presence is bookkeeping: queued now, in order, and published once committed; the connection
        does not wait for it (in an arrival storm the writer takes it after every login waiting, and a
        page whose connection is not answered in 20 s gives up)."""
        done = self.runtime.writer.submit_behind(proctoring.set_presence, candidate_id, online, self.runtime.now())
        done.add_done_callback(self._publish_presence)

    def _publish_presence(self, done: Future) -> None:
        if (error := done.exception()) is not None:
            log.warning("presence not recorded: %s", error)
        else:
            self.rt.publish(done.result().events)

    def on_signal(self, sid: str, data: Any) -> Reply:
        """A page signal, checked (:func:`cbt.core.signals.parse`) and within the login's budget before
        anything else is asked; then recorded for the live login."""
        opened = self.who.get(sid)
        if opened is None:
            return error_reply(Unauthorized("请先登录", code="not_logged_in"), self._locale(sid))
        try:
            signal = signals.parse(data)
            self.budgets.setdefault(opened.login_id, signals.Budget()).spend(self.runtime.now().timestamp())
        except CbtError as exc:
            return error_reply(exc, self._locale(sid))
        if not signal.worth_recording(self.runtime.config.signal_thresholds or signals.DEFAULT_THRESHOLDS):
            return {"recorded": False}

        def record(login: LoginInfo, session: Session) -> Reply:
            self.runtime.act(proctoring.candidate_signal, login.candidate_id, signal, self.runtime.now())
            return {"recorded": True}

        return self._as_candidate(sid, record)

    def on_ack(self, sid: str, data: Any) -> Reply:
        """我已知晓: the candidate read a message (receipts are gathered many to a writer job)."""

        def acknowledge(login: LoginInfo, session: Session) -> Reply:
            message_id = inputs.check(inputs.Ack, data).message_id  # checked before it is gathered with others
            receipt = (login.candidate_id, message_id, self.runtime.now())
            self.rt.publish(self.runtime.writer.run_gathered(proctoring.acknowledge_all, receipt).events)
            return {"acknowledged": True}

        return self._as_candidate(sid, acknowledge)

    def login_ids(self) -> dict[int, list[str]]:
        return sockets_by_login(self.who)

    # 开始考试, each answer and 交卷 over the live channel: the same commands and answers as the HTTP API
    # (POST .../attempt/start, PUT .../attempt/responses/<question id>, POST .../attempt/submit), at
    # about half the server's work (no HTTP request, cookie or CSRF: the channel carries its signed
    # token). The page uses them while the channel is up, the HTTP API otherwise.

    def on_start(self, sid: str, data: Any = None) -> Reply:
        """The start and the candidate's paper (its JSON text, encoded once, as the HTTP API sends it)."""

        def start(login: LoginInfo, session: Session) -> Reply:
            self.runtime.candidate_act(login, attempts.start, self.runtime.now())
            return {"paper": attempts.attempt_json(session, login.candidate_id, self.runtime.now()).text}

        return self._as_candidate(sid, start)

    def on_save(self, sid: str, data: Any) -> Reply:
        """One answer: ``{"question_id", "answer", "seq"}``; acknowledged once it is committed."""

        def save(login: LoginInfo, session: Session) -> Reply:
            answer = inputs.check(inputs.SaveEvent, data)
            args = (answer.question_id, answer.answer, answer.seq, self.runtime.now())
            return self.runtime.candidate_act(login, attempts.save_response, *args)

        return self._as_candidate(sid, save)

    def on_submit(self, sid: str, data: Any = None) -> Reply:
        """Hand in; the receipt."""
        return self._as_candidate(
            sid, lambda login, session: self.runtime.candidate_act(login, attempts.submit, self.runtime.now())
        )

    def _as_candidate(self, sid: str, act: Callable[[LoginInfo, Session], Reply]) -> Reply:
        """``act`` for the channel's login while it is live (not replaced, moved or ended: asked of the
        database each time, as every HTTP request asks); its answer, or the error's."""
        opened = self.who.get(sid)
        try:
            if opened is None:
                raise Unauthorized("请先登录", code="not_logged_in")
            with self.runtime.sessions() as session:
                login = candidates.authenticate_id(session, opened.login_id)
                session.rollback()  # no snapshot held while the writer works: what is read next includes it
                return act(login, session)
        except CbtError as exc:
            return error_reply(exc, self._locale(sid))
        except Exception:  # answered all the same: a page never waits for a reply that does not come
            log.exception("live channel: %s failed", getattr(act, "__name__", "an event"))
            return server_error(self._locale(sid))
