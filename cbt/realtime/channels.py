"""The live channel's rooms (Socket.IO rooms: who hears what) and the replies every handler shares."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cbt import i18n
from cbt.core.errors import CbtError
from cbt.i18n import N_

SERVER_ERROR_TEXT = N_("服务器内部错误，请重试")


def server_error(locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any]:
    return {"error": "server_error", "message": i18n.translate(SERVER_ERROR_TEXT, locale), "status": 500}


def candidate_channel(candidate_id: int) -> str:
    """A candidate's pages (/exam)."""
    return f"c{candidate_id}"


def room_channel(room_id: int) -> str:
    """The proctors' dashboards of a room (/monitor)."""
    return f"r{room_id}"


def room_candidates_channel(room_id: int) -> str:
    """Every candidate's page in a room (/exam): broadcasts."""
    return f"rc{room_id}"


def error_reply(exc: CbtError, locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any]:
    """A refused event's reply, its message in the socket's language."""
    return {"error": exc.code, "message": i18n.render(exc, locale), "status": exc.status}


def socket_locale(auth: Any, environ: dict[str, Any]) -> str:
    """The language a page's live channel speaks: the page's own (``auth["lang"]``), else its browser's."""
    asked = auth.get("lang") if isinstance(auth, dict) else None
    if isinstance(asked, str) and asked in i18n.CHOICES:
        return i18n.CHOICES[asked]
    return i18n.locale_of(environ.get("HTTP_ACCEPT_LANGUAGE"))


def auth_token(auth: Any) -> object:
    """The token a client connected with (``{"token": ...}``); anything else is no token."""
    return auth.get("token") if isinstance(auth, dict) else None


def sockets_by_login(who: dict[str, Any]) -> dict[int, list[str]]:
    """The logins with a socket open in this process (``who``: sid -> its login), and their sockets."""
    found: dict[int, list[str]] = defaultdict(list)
    for sid, login in list(who.items()):
        found[login.login_id].append(sid)
    return found
