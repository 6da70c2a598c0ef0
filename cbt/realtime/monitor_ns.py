"""Staff dashboards (/monitor): a proctor may watch only their rooms, a supervisor any room (read-only)."""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace, join_room

from cbt import i18n, inputs
from cbt.adapters import tokens
from cbt.core.errors import CbtError, Unauthorized
from cbt.realtime import Realtime
from cbt.realtime.channels import (
    auth_token,
    error_reply,
    room_channel,
    server_error,
    socket_locale,
    sockets_by_login,
)
from cbt.services import proctoring, staff

log = logging.getLogger(__name__)


class MonitorNamespace(Namespace):
    def __init__(self, namespace: str, realtime: Realtime) -> None:
        super().__init__(namespace)
        self.rt = realtime
        self.runtime = realtime.runtime
        self.who: dict[str, staff.StaffInfo] = {}
        self.watching: dict[str, int] = {}
        self.locales: dict[str, str] = {}  # sid -> its dashboard's language

    def _locale(self) -> str:
        return self.locales.get(request.sid, i18n.DEFAULT_LOCALE)  # type: ignore[attr-defined]

    def on_connect(self, auth: Any = None) -> None:
        locale = socket_locale(auth, request.environ)
        try:
            data = tokens.verify(self.runtime.config.secret_key, auth_token(auth), "staff")
            with self.runtime.sessions() as session:
                self.who[request.sid] = staff.authenticate_login(session, data.get("login"))  # type: ignore[attr-defined]
        except CbtError as exc:
            raise ConnectionRefusedError(error_reply(exc, locale)) from exc
        self.locales[request.sid] = locale  # type: ignore[attr-defined]

    def on_watch(self, data: Any) -> dict[str, Any]:
        member = self.who.get(request.sid)  # type: ignore[attr-defined]
        if member is None:
            return error_reply(Unauthorized("请先登录", code="not_logged_in"), self._locale())
        try:
            watch = inputs.check(inputs.Watch, data)
            room_id = watch.room_id
            with self.runtime.sessions() as session:
                member = staff.authenticate_login(session, member.login_id)  # still signed in, still active
                view = proctoring.room_view(session, member, room_id, watch.session_id, self.runtime.now())
        except CbtError as exc:
            return error_reply(exc, self._locale())
        except Exception:
            log.exception("live channel: watch failed")
            return server_error(self._locale())
        join_room(room_channel(room_id))
        self.watching[request.sid] = room_id  # type: ignore[attr-defined]
        if member.role == "proctor":
            self.runtime.act_behind(proctoring.set_staff_presence, member, room_id, True, self.runtime.now())
        return {"snapshot": view}

    def login_ids(self) -> dict[int, list[str]]:
        return sockets_by_login(self.who)

    def on_disconnect(self, reason: Any = None) -> None:
        member = self.who.pop(request.sid, None)  # type: ignore[attr-defined]
        self.locales.pop(request.sid, None)  # type: ignore[attr-defined]
        room_id = self.watching.pop(request.sid, None)  # type: ignore[attr-defined]
        if member is not None and room_id is not None and member.role == "proctor":
            still = any(
                (other := self.who.get(sid)) is not None and other.id == member.id and r == room_id
                for sid, r in self.watching.items()
            )
            if not still:
                self.runtime.act_behind(proctoring.set_staff_presence, member, room_id, False, self.runtime.now())
