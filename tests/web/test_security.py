"""Hardening every deployment needs: headers on every page, no inline script, Secure cookies behind
TLS, the live channel's origin check, and a /healthz that proves a real write."""

from __future__ import annotations

import re

import pytest

from cbt.app import create_app
from cbt.config import PROJECT_ROOT, Config
from cbt.runtime import of as runtime_of
from tests.support.exam import AUDIT_KEY
from tests.web.test_realtime import crew, staff_login  # noqa: F401 (crew is a fixture)


def make(tmp_path, exam, **env):
    config = Config.from_env(
        {"CBT_INSTANCE_PATH": str(tmp_path / "i"), "CBT_DATABASE_URL": exam.url, "CBT_AUDIT_KEY": AUDIT_KEY, **env},
        testing=True,
        background=False,
    )
    return create_app(config, now=exam.clock)


def stop(app):
    runtime_of(app).writer.stop()
    runtime_of(app).engine.dispose()


def test_every_page_has_the_policy_and_is_not_cached(app, candidate, crew):  # noqa: F811
    c = candidate(3)
    c.login()
    proctor, _ = staff_login(app, "p1")
    pages = [
        (app.test_client(), "/"),
        (app.test_client(), "/staff/login"),
        (c.client, "/exam"),
        (c.client, "/api/v1/candidate/status"),
        (proctor, "/proctor"),
        (proctor, f"/proctor/rooms/{crew['room']}"),
        (proctor, f"/proctor/rooms/{crew['room']}/record"),
    ]
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store", path
    static = app.test_client().get("/static/css/cbt.css")
    assert static.headers.get("Cache-Control") != "no-store"
    static.close()


def test_no_template_has_inline_script_or_handlers():
    """The policy allows no inline script: none may creep back into a template (a JSON data block is no script)."""
    for path in (PROJECT_ROOT / "templates").rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        # a script of its own source, or data the page reads (a JSON block, never executed)
        code = r"<script(?![^>]*\bsrc=)(?![^>]*\btype=\"application/json\")[^>]*>"
        assert not re.search(code, html), f"{path}: inline <script>"
        assert not re.search(r"\son[a-z]+\s*=", html), f"{path}: inline event handler"
        assert not re.search(r"\sstyle\s*=", html), f"{path}: inline style"


@pytest.mark.parametrize(("setting", "secure"), [("1", True), ("", False)])
def test_secure_cookies_behind_tls(tmp_path, exam, setting, secure):
    app = make(tmp_path, exam, CBT_SECURE_COOKIES=setting)
    spec = exam.account(3)
    response = app.test_client().post(
        "/api/v1/candidate/login", json={"ticket": spec.ticket, "id_number": spec.id_number}
    )
    cookie = response.headers["Set-Cookie"]
    assert ("; Secure" in cookie) is secure and "HttpOnly" in cookie
    stop(app)


def test_the_live_channel_accepts_its_own_origin_and_the_configured_ones(tmp_path, exam):
    app = make(tmp_path, exam, CBT_ALLOWED_ORIGINS="https://kiosk.example")
    client = app.test_client()
    handshake = "/socket.io/?EIO=4&transport=polling"
    assert client.get(handshake, headers={"Origin": "http://evil.example"}).status_code == 400
    assert client.get(handshake, headers={"Origin": "http://localhost"}).status_code == 200
    assert client.get(handshake, headers={"Origin": "https://kiosk.example"}).status_code == 200
    stop(app)


def test_healthz_proves_a_real_write_and_says_why_it_is_degraded(tmp_path, exam):
    app = make(tmp_path, exam)
    report = app.test_client().get("/healthz")
    assert report.status_code == 200 and report.json["status"] == "ok" and report.json["database"] == "writable"
    stop(app)
    path = exam.url.removeprefix("sqlite:///")
    read_only = make(tmp_path, exam, CBT_DATABASE_URL=f"sqlite:///file:{path}?mode=ro&uri=true")
    report = read_only.test_client().get("/healthz")
    assert report.status_code == 503 and report.json["status"] == "degraded"
    assert report.json["database"] == "not_writable" and "只读" in report.json["reasons"][0]
    stop(read_only)
    full = make(tmp_path, exam, CBT_MIN_FREE_DISK_MB=str(10**9))
    report = full.test_client().get("/healthz")
    assert report.status_code == 503 and "磁盘剩余空间不足" in report.json["reasons"][0]
    stop(full)


def test_the_start_up_hint_on_a_read_only_database_names_the_cause(tmp_path, exam, caplog):
    path = exam.url.removeprefix("sqlite:///")
    config = Config.from_env(
        {
            "CBT_INSTANCE_PATH": str(tmp_path / "i"),
            "CBT_DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true",
            "CBT_AUDIT_KEY": AUDIT_KEY,
        },
        testing=True,
        background=True,
    )
    app = create_app(config, now=exam.clock)
    runtime_of(app).sweeper.stop()
    assert "数据库只读" in caplog.text and "cbt init" not in caplog.text
    stop(app)
