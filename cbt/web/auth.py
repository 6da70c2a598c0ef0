"""Who is asking: the candidate's login from the signed session cookie, and CSRF for state changes."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request, session

from cbt.core.errors import Forbidden
from cbt.services import candidates
from cbt.services.candidates import LoginInfo
from cbt.web.context import db

SESSION_KEY = "candidate_login"
CSRF_HEADER = "X-CSRF-Token"


def current_login() -> LoginInfo:
    """The live login of this request, or Unauthorized (not logged in / replaced by a newer login)."""
    if "login" not in g:
        g.login = candidates.authenticate(db(), session.get(SESSION_KEY))
    return g.login


def check_csrf(expected: str, sent: str | None = None) -> None:
    """State-changing requests carry the session's CSRF token (header, or form field for HTML forms)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = sent if sent is not None else request.headers.get(CSRF_HEADER) or request.form.get("csrf_token") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("页面已过期，请刷新后重试", code="csrf_failed")


def candidate_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Require a live candidate login; for state-changing methods also the login's CSRF token."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_csrf(current_login().csrf_token, request.headers.get(CSRF_HEADER, ""))
        return view(*args, **kwargs)

    return wrapper
