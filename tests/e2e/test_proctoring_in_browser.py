"""End to end: a candidate browser and a proctor browser side by side, against a real gunicorn server."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.test_exam_in_browser import login

pytestmark = pytest.mark.e2e


class Prompts:
    """Answers the proctor page's prompt dialogs in order, and accepts its confirmations."""

    def __init__(self, page) -> None:
        self.queue: list[str] = []
        page.on("dialog", self._handle)

    def answer(self, *replies: str) -> None:
        self.queue += replies

    def _handle(self, dialog) -> None:
        if dialog.type == "prompt":
            dialog.accept(self.queue.pop(0))
        else:
            dialog.accept()


def seconds(text):
    h, m, s = map(int, text.split(":"))
    return h * 3600 + m * 60 + s


def test_proctor_and_candidate_side_by_side(browser, server, capsys, tmp_path):
    demo = server.demo(candidates=2, minutes=90, admission=True)
    account = demo["candidates"][0]
    proctor1 = next(a for a in demo["staff"] if a["role"] == "proctor")

    proctor_context = browser.new_context(locale="zh-CN")
    proctor = proctor_context.new_page()
    proctor.goto(server.url + "/staff/login")
    proctor.fill("#username", proctor1["username"])
    proctor.fill("#password", proctor1["password"])
    proctor.click("button[type=submit]")
    proctor.click("text=进入监考")
    expect(proctor.locator("#live")).to_have_text("实时连接")
    expect(proctor.locator("#tiles .tile")).to_have_count(2)

    candidate_context = browser.new_context(locale="zh-CN")
    candidate = candidate_context.new_page()
    login(candidate, server, account)
    tile = proctor.locator(".tile", has_text=account["name"])
    expect(tile).to_contain_text("已登录待入场")

    candidate.click("#start-button")
    expect(candidate.locator("#banner")).to_contain_text("请等待监考员核验身份")

    tile.click()
    proctor.click("[data-action=admit]")  # 核验身份，允许入场
    expect(candidate.locator("#start-button")).to_be_enabled()
    candidate.click("#start-button")
    expect(candidate.locator("#exam")).to_be_visible()
    expect(tile).to_contain_text("答题中")

    # the candidate leaves the page for a moment: the proctor sees it
    started = time.monotonic()
    candidate.evaluate(
        """() => {
            const set = (v) => Object.defineProperty(document, 'hidden', {value: v, configurable: true});
            set(true); document.dispatchEvent(new Event('visibilitychange'));
            const back = () => { set(false); document.dispatchEvent(new Event('visibilitychange')); };
            return new Promise((r) => setTimeout(() => { back(); r(); }, 2500));
        }"""
    )
    sent = time.monotonic()
    expect(proctor.locator("#events li").first).to_contain_text("切换离开考试页面")
    latency = time.monotonic() - sent
    expect(tile.locator(".badge")).to_contain_text("⚠")

    # extend by 10 minutes: the candidate's countdown shows it within two seconds
    expect(candidate.locator("#countdown")).to_have_text(re.compile(r"01:(29|30):\d\d"))
    before = seconds(candidate.inner_text("#countdown"))
    prompts = Prompts(proctor)
    prompts.answer("10", "设备故障补时")
    tile.click()
    proctor.click("[data-action=extend]")
    expect(candidate.locator("#countdown")).to_have_text(re.compile(r"01:(39|40):\d\d"), timeout=2000)
    assert seconds(candidate.inner_text("#countdown")) >= before + 590

    # pause: the screen is covered and the clock stops
    prompts.answer("考生举手反映键盘故障")
    proctor.click("[data-action=pause]")
    expect(candidate.locator("#cover")).to_contain_text("考试已暂停")
    frozen = candidate.inner_text("#countdown")
    candidate.wait_for_timeout(2200)
    assert candidate.inner_text("#countdown") == frozen
    expect(tile).to_contain_text("已暂停")
    proctor.click("[data-action=resume]")
    expect(candidate.locator("#cover")).to_be_hidden()

    # a broadcast appears at once and is acknowledged
    prompts.answer("请检查答题卡后再交卷")
    proctor.click("[data-room-action=message]")
    expect(candidate.locator("#cover")).to_contain_text("请检查答题卡后再交卷")
    candidate.click("#message-ack")
    expect(proctor.locator("#events")).to_contain_text("已确认消息")

    # the proctors sign the room record; it becomes read-only
    proctor.click("[data-room-action=sign]")
    expect(proctor.locator("#events")).to_contain_text("签署考场记录")
    record = proctor.request.get(
        server.url + proctor.locator("#record-link").get_attribute("href") + "&format=json"
    ).json()
    assert record["signed"] and record["signatures"][0]["staff"].endswith(proctor1["username"])
    assert any("切换离开考试页面" in e["text"] for e in record["events"])
    proctor.screenshot(path=str(tmp_path / "dashboard.png"))  # kept for a person to look at
    proctor.goto(server.url + proctor.locator("#record-link").get_attribute("href"))
    expect(proctor.locator("body")).to_contain_text("已签字")
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", proctor.inner_text("body")), "times on the centre's clock"
    proctor.screenshot(path=str(tmp_path / "record.png"), full_page=True)

    with capsys.disabled():
        print(
            f"\n[e2e] candidate signal to proctor dashboard: {latency * 1000:.0f} ms "
            f"(whole round trip incl. the 2.5 s away: {(time.monotonic() - started):.1f} s)"
        )
    proctor_context.close()
    candidate_context.close()
    assert latency < 1.0
