"""End to end in real Chromium against a real gunicorn server: the candidate's whole way through."""

from __future__ import annotations

import json
import re
import sqlite3
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def api(page, server, path="/api/v1/candidate/attempt"):
    response = page.request.get(server.url + path)
    assert response.ok, response.text()
    return response.json()


def questions(view):
    return [q for item in view["items"] for q in item.get("questions", [item])]


def login(page, server, account):
    page.goto(server.url)
    page.fill("#ticket", account["ticket"])
    page.fill("#id_number", account["id_number"])
    page.click("#login-button")
    page.wait_for_url("**/exam")


def start(page):
    page.click("#start-button")
    expect(page.locator("#exam")).to_be_visible()


def open_question(page, qid):
    page.click(f'#card button[data-qid="{qid}"]')
    expect(page.locator(f'#item fieldset[data-qid="{qid}"]')).to_be_visible()


def answer(page, question, picks=(0,)):
    for n in picks:
        page.check(f'#item input[name="q-{question["id"]}"][value="{question["options"][n]["id"]}"]')


def saved(page):
    expect(page.locator("#save-state")).to_have_text("已保存", timeout=15000)


class SeatNetwork:
    """The seat's network, switched off and on: HTTP by Playwright's offline switch, and the live
    channel (which that switch leaves up) by routing its WebSockets through here."""

    def __init__(self, context) -> None:
        self.context, self.up, self.sockets = context, True, []
        context.route_web_socket(re.compile(r"/socket\.io/"), self._route)

    def _route(self, ws) -> None:
        if not self.up:
            ws.close()
            return
        ws.connect_to_server()
        self.sockets.append(ws)

    def drop_live_channel(self) -> None:
        self.up = False
        for ws in self.sockets:
            ws.close()
        self.sockets.clear()

    def drop(self) -> None:
        self.drop_live_channel()
        self.context.set_offline(True)

    def restore(self) -> None:
        self.up = True
        self.context.set_offline(False)


def test_a_candidate_takes_theory_then_skill(context, server):
    account = server.demo(candidates=3)["candidates"][0]  # level 3: single, multiple and judge
    network = SeatNetwork(context)
    page = context.new_page()
    page.goto(server.url)
    page.fill("#ticket", account["ticket"])
    page.fill("#id_number", "110101199001011234")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_contain_text("准考证号或身份证号不正确")
    login(page, server, account)

    expect(page.locator("#f-name")).to_have_text(account["name"])
    expect(page.locator("#f-part")).to_have_text("理论知识")
    expect(page.locator("#start-button")).to_be_enabled()
    expect(page.locator("body")).to_have_attribute("data-live", "up")
    over_http = []  # the start and the answers go over the live channel while it is up
    page.on("request", lambda r: "/attempt/" in r.url and r.method != "GET" and over_http.append(r.url))
    start(page)
    expect(page.locator("#countdown")).to_have_text(re.compile(r"01:(29|30):\d\d"))

    view = api(page, server)
    by_type = {}
    for q in questions(view):
        by_type.setdefault(q["type"], q)
    assert set(by_type) == {"single", "multiple", "judge"}
    open_question(page, by_type["single"]["id"])
    page.keyboard.press("b")  # keyboard: B picks the second option
    open_question(page, by_type["multiple"]["id"])
    answer(page, by_type["multiple"], (0, 2))
    open_question(page, by_type["judge"]["id"])
    answer(page, by_type["judge"], (1,))
    page.click("#flag")
    saved(page)
    expect(page.locator(f'#card button[data-qid="{by_type["judge"]["id"]}"]')).to_have_class(re.compile("flagged"))
    assert not over_http, over_http

    page.reload()  # mid-exam reload: the server's state comes back
    expect(page.locator("#exam")).to_be_visible()
    open_question(page, by_type["multiple"]["id"])
    multiple = by_type["multiple"]
    expect(page.locator(f'input[value="{multiple["options"][0]["id"]}"]')).to_be_checked()
    expect(page.locator(f'input[value="{multiple["options"][2]["id"]}"]')).to_be_checked()
    expect(page.locator(f'input[value="{multiple["options"][1]["id"]}"]')).not_to_be_checked()

    network.drop()  # the network drops, the live channel with it; keep answering
    offline = [q for q in questions(view) if q["id"] not in {x["id"] for x in by_type.values()}][:3]
    for q in offline:
        open_question(page, q["id"])
        answer(page, q)
    expect(page.locator("#save-state")).to_contain_text("网络中断，答案已暂存本机")
    network.restore()
    saved(page)
    stored = api(page, server)["responses"]
    assert stored[by_type["single"]["id"]]["answer"] == [by_type["single"]["options"][1]["id"]]
    assert stored[multiple["id"]]["answer"] == sorted([multiple["options"][0]["id"], multiple["options"][2]["id"]])
    assert stored[by_type["judge"]["id"]]["answer"] == [by_type["judge"]["options"][1]["id"]]
    for q in offline:
        assert stored[q["id"]]["answer"] == [q["options"][0]["id"]]

    page.click("#submit-button")
    expect(page.locator("#dialog-body")).to_contain_text("未答题")
    expect(page.locator("#dialog-body")).to_contain_text("已标记题")
    page.click("#dialog-ok")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#done-reason")).to_have_text("您已成功交卷。")
    expect(page.locator("#r-answered")).to_have_text("6 题")
    receipt = page.inner_text("#r-receipt")
    status = api(page, server, "/api/v1/candidate/status")
    assert status["sessions"][0]["receipt"] == receipt

    page.click("#next-session")  # then the skill session, the same way
    expect(page.locator("#f-part")).to_have_text("技能考核")
    start(page)
    expect(page.locator("#item .scenario")).to_be_visible()
    skill = api(page, server)
    case = skill["items"][0]
    assert page.locator("#item .sub-questions fieldset").count() == len(case["questions"])
    answer(page, case["questions"][0], (3,))
    saved(page)
    page.click("#submit-button")
    page.click("#dialog-ok")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#next-session")).to_be_hidden()
    assert api(page, server, "/api/v1/candidate/status")["current"] is None


def test_a_short_practice_session_runs_out(context, server):
    account = server.demo(candidates=1, minutes=0.1)["candidates"][0]  # 6 seconds
    page = context.new_page()
    login(page, server, account)
    start(page)
    first = questions(api(page, server))[0]
    answer(page, first)
    saved(page)
    expect(page.locator("#done-reason")).to_have_text("考试时间到，已自动交卷。", timeout=40000)
    view = api(page, server)
    assert view["state"] == "submitted" and view["submit_reason"] == "deadline"
    assert view["responses"][first["id"]]["answer"] == [first["options"][0]["id"]]


def presence(server, ticket):
    """The candidate's online flag and how many times the room's record has them reconnect."""
    with sqlite3.connect(server.db_path) as db:
        online, candidate_id = db.execute("SELECT online, id FROM candidates WHERE ticket = ?", (ticket,)).fetchone()
        kind = "reconnected"
        reconnected = db.execute(
            "SELECT count(*) FROM incidents WHERE candidate_id = ? AND kind = ?", (candidate_id, kind)
        ).fetchone()[0]
    return online, reconnected


def test_kill_9_mid_exam_loses_nothing(context, server):
    account = server.demo(candidates=2)["candidates"][1]
    page = context.new_page()
    login(page, server, account)
    start(page)
    qs = questions(api(page, server))
    for q in qs[:5]:
        open_question(page, q["id"])
        answer(page, q, (1,))
    saved(page)
    acknowledged = api(page, server)["responses"]
    assert len(acknowledged) == 5

    server.kill9()  # the server dies hard; the candidate keeps answering
    for q in qs[5:8]:
        open_question(page, q["id"])
        answer(page, q, (0,))
    expect(page.locator("#save-state")).to_contain_text("网络中断")
    page.close()  # and even closes the tab before the server is back
    server.start()
    assert presence(server, account["ticket"]) == (0, 0), "no page is connected to the new process"
    page = context.new_page()
    page.goto(server.url + "/exam")
    saved(page)  # the reopened page replays what the browser kept
    deadline = time.monotonic() + 10
    while presence(server, account["ticket"]) != (1, 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert presence(server, account["ticket"]) == (1, 1), "back online, and the room's record says so (连接恢复)"
    after = api(page, server)["responses"]
    for qid, entry in acknowledged.items():
        assert after[qid] == entry
    for q in qs[5:8]:
        assert after[q["id"]]["answer"] == [q["options"][0]["id"]]
    page.reload()
    open_question(page, qs[0]["id"])
    expect(page.locator(f'input[value="{qs[0]["options"][1]["id"]}"]')).to_be_checked()


def test_a_busy_server_loses_no_answer(context, server):
    """A 503 (the writer too far behind), or a proxy's 502/504, is not a refusal: the page keeps the
    answer and sends it again until the server takes it."""
    account = server.demo(candidates=2)["candidates"][0]
    network = SeatNetwork(context)
    page = context.new_page()
    login(page, server, account)
    start(page)
    q = questions(api(page, server))[0]
    network.drop_live_channel()  # and it stays down (a proxy without WebSockets): answers go over HTTP
    refused = []

    def busy_once(route):
        if not refused:
            refused.append(route.request.url)
            route.fulfill(status=503, json={"error": "server_busy", "message": "服务器繁忙，请稍后重试"})
        else:
            route.continue_()

    page.route("**/api/v1/candidate/attempt/responses/**", busy_once)  # over HTTP: the live channel is down
    open_question(page, q["id"])
    answer(page, q, (1,))
    saved(page)
    assert refused, "the first save was answered 503"
    assert api(page, server)["responses"][q["id"]]["answer"] == [q["options"][1]["id"]]


def test_the_server_submits_when_the_browser_is_gone(context, server):
    account = server.demo(candidates=1, minutes=0.1)["candidates"][0]  # 6 seconds
    page = context.new_page()
    login(page, server, account)
    start(page)
    first = questions(api(page, server))[0]
    answer(page, first)
    saved(page)
    page.close()  # nobody asks again: the server's own sweeper must submit
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with sqlite3.connect(server.db_path) as db:
            row = db.execute(
                "SELECT a.submit_reason, a.score FROM attempts a JOIN candidates c ON c.id = a.candidate_id "
                "WHERE c.ticket = ? AND a.started_at IS NOT NULL",
                (account["ticket"],),
            ).fetchone()
        if row and row[0]:
            break
        time.sleep(0.5)
    assert row[0] == "deadline"
    assert json.loads(row[1])["answered"] == 1


def test_a_wrong_client_clock_changes_nothing(browser, server):
    """The page counts down from the server's remaining time; the machine's own clock is never used."""
    context = browser.new_context(locale="zh-CN")
    context.add_init_script("(() => { const real = Date.now; Date.now = () => real() + 3 * 86400000; })()")
    page = context.new_page()
    account = server.demo(candidates=1)["candidates"][0]
    login(page, server, account)
    start(page)
    expect(page.locator("#countdown")).to_have_text(re.compile(r"\d\d:\d\d:\d\d"))
    remaining = api(page, server)["remaining_seconds"]
    shown = page.inner_text("#countdown")
    h, m, s = map(int, shown.split(":"))
    assert abs(h * 3600 + m * 60 + s - remaining) <= 2
    context.close()
