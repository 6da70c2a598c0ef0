"""The interface speaks the reader's language: Chinese by default, English with Accept-Language: en or
?lang=en (remembered), for pages, API errors and the live channel's replies; the catalogues are complete."""

from __future__ import annotations

import importlib.util
import re

from cbt.config import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("catalogues", PROJECT_ROOT / "tools" / "i18n.py")
assert _spec is not None and _spec.loader is not None
catalogues = importlib.util.module_from_spec(_spec)  # tools/i18n.py: extraction and the check make lint runs
_spec.loader.exec_module(catalogues)

IDEOGRAPH = re.compile(r"[\u3400-\u9fff]")
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def visible(html: str) -> str:
    """The page without its scripts' catalogue (whose keys are the Chinese message ids)."""
    return re.sub(r'<script type="application/json" id="cbt-catalogue">.*?</script>', "", html, flags=re.S)


def test_the_catalogues_are_complete_and_every_shown_string_is_marked():
    assert catalogues.problems() == []


def test_pages_are_chinese_by_default_and_english_when_the_browser_asks(app):
    client = app.test_client()
    for path in ("/", "/staff/login"):
        chinese = client.get(path).get_data(as_text=True)
        assert '<html lang="zh-CN"' in chinese and IDEOGRAPH.search(visible(chinese)), path
        english = app.test_client().get(path, headers=EN).get_data(as_text=True)
        assert '<html lang="en"' in english, path
        assert not IDEOGRAPH.search(visible(english)), (path, IDEOGRAPH.findall(visible(english))[:10])


def test_the_language_switch_is_remembered_for_the_session(app):
    client = app.test_client()
    assert '<html lang="en"' in client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en"' in client.get("/").get_data(as_text=True), "remembered without asking again"
    assert '<html lang="zh-CN"' in client.get("/?lang=zh", headers=EN).get_data(as_text=True)
    assert '<html lang="zh-CN"' in client.get("/", headers=EN).get_data(as_text=True), "the choice beats the browser"
    assert '<html lang="zh-CN"' in client.get("/?lang=xx").get_data(as_text=True), "an unknown choice changes nothing"


def test_an_english_page_carries_its_scripts_catalogue(app):
    html = app.test_client().get("/", headers=EN).get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="cbt-catalogue">(.*?)</script>', html, re.S)
    assert found and '"答题卡"' in found.group(1) and "Answer card" in found.group(1)
    chinese = app.test_client().get("/").get_data(as_text=True)
    assert '<script type="application/json" id="cbt-catalogue">{}</script>' in chinese, "Chinese needs none"


def test_api_errors_keep_their_code_and_speak_the_readers_language(app, exam):
    body = {"ticket": exam.account(3).ticket, "id_number": "110101199001011234"}
    chinese = app.test_client().post("/api/v1/candidate/login", json=body)
    english = app.test_client().post("/api/v1/candidate/login", json=body, headers=EN)
    assert chinese.status_code == english.status_code == 401
    assert chinese.json["error"] == english.json["error"] == "invalid_credentials"
    assert IDEOGRAPH.search(chinese.json["message"]) and not IDEOGRAPH.search(english.json["message"])
    missing = app.test_client().get("/api/v1/nowhere", headers=EN)
    assert missing.status_code == 404 and not IDEOGRAPH.search(missing.json["message"])


def test_the_live_channels_replies_speak_the_pages_language(app, candidate):
    c = candidate()
    assert c.login().status_code == 200
    token = c.get("/api/v1/candidate/status").json["socket_token"]
    bad = {"question_id": "NOPE", "answer": ["A"], "seq": 1}
    for lang, chinese in (("en", False), ("zh", True), (None, True)):
        auth = {"token": token} if lang is None else {"token": token, "lang": lang}
        sock = app.extensions["socketio"].test_client(app, namespace="/exam", auth=auth, flask_test_client=c.client)
        assert sock.is_connected("/exam")
        refused = sock.emit("save", bad, namespace="/exam", callback=True)
        assert refused["error"] == "unknown_question", "the code is the same in every language"
        assert bool(IDEOGRAPH.search(refused["message"])) is chinese, (lang, refused["message"])
        sock.disconnect(namespace="/exam")


def test_a_room_event_reaches_each_dashboard_in_its_own_language():
    from datetime import UTC, datetime

    from cbt import i18n
    from cbt.core.events import Logged
    from cbt.core.text import N_, say
    from cbt.realtime.broadcast import to_monitor

    entry = to_monitor(Logged(1, "pause", say(N_("暂停考试：%(reason)s"), reason="停电"), datetime.now(UTC)))
    assert entry["text"] == "暂停考试：停电", "the Chinese text as before"
    assert entry["msg"] == {"id": "暂停考试：%(reason)s", "params": {"reason": "停电"}}
    assert i18n.translate(entry["msg"]["id"], "en", entry["msg"]["params"]) == "Exam paused: 停电"


def test_times_are_shown_on_the_centres_clock(app):
    from datetime import UTC, datetime

    from cbt import i18n

    with app.test_request_context("/"):
        assert i18n.when("2026-12-08T01:30:05+00:00") == "2026-12-08 09:30:05", "UTC+8 in Shanghai"
        assert i18n.when(datetime(2026, 12, 7, 23, 59, 59, tzinfo=UTC)) == "2026-12-08 07:59:59"
    html = app.test_client().get("/").get_data(as_text=True)
    assert 'data-timezone="Asia/Shanghai"' in html, "the page scripts show times on the same clock"
