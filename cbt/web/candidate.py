"""Candidate pages: the login page and the exam page (a shell driven by the modules of static/js/exam/)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, session, url_for

from cbt import i18n
from cbt.db import models
from cbt.web.auth import SESSION_KEY, candidate_required, current_login
from cbt.web.context import db

bp = Blueprint("candidate", __name__)
_shells: dict[tuple[str, str], str] = {}


def shell(template: str) -> str:
    """A page with nothing of its own candidate in it (the scripts fetch that), rendered once per
    language: every candidate of a room opens it within the same minute, and rendering its
    translated labels each time tripled the page's cost (docs/performance.md)."""
    key = (template, i18n.current_locale())
    page = _shells.get(key)
    if page is None:
        page = _shells[key] = render_template(template)
    return page


@bp.get("/")
def login_page():
    if session.get(SESSION_KEY):
        return redirect(url_for("candidate.exam_page"))
    return shell("candidate/login.html")


@bp.get("/exam")
def exam_page():
    if not session.get(SESSION_KEY):
        return redirect(url_for("candidate.login_page"))
    return shell("candidate/exam.html")


@bp.get("/exam/photo")
@candidate_required
def photo():
    candidate = db().get(models.Candidate, current_login().candidate_id)
    if candidate is None or candidate.photo is None:
        return Response(status=404)
    response = Response(candidate.photo, mimetype=candidate.photo_type or "image/jpeg")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
