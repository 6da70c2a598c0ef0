"""Scale-out: two server processes sharing events through a real Redis message queue.

A candidate's browser talks to process A, the proctor's browser to process B; each sees the
other's actions live, which only works if the events cross processes through Redis.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.server import two_servers
from tests.e2e.test_exam_in_browser import login
from tests.e2e.test_proctoring_in_browser import Prompts

pytestmark = pytest.mark.e2e


def test_events_cross_processes_through_redis(browser, tmp_path, redis_url):
    with two_servers(tmp_path, 1, db_path=tmp_path / "shared.db", CBT_MESSAGE_QUEUE=redis_url) as (a, b, demo):
        account = demo["candidates"][0]
        proctor_account = next(s for s in demo["staff"] if s["role"] == "proctor")
        proctor = browser.new_context(locale="zh-CN").new_page()
        proctor.goto(b.url + "/staff/login")
        proctor.fill("#username", proctor_account["username"])
        proctor.fill("#password", proctor_account["password"])
        proctor.click("button[type=submit]")
        proctor.click("text=进入监考")
        expect(proctor.locator("#live")).to_have_text("实时连接")

        candidate = browser.new_context(locale="zh-CN").new_page()
        login(candidate, a, account)
        candidate.click("#start-button")
        expect(candidate.locator("#exam")).to_be_visible()
        tile = proctor.locator(".tile", has_text=account["name"])
        expect(tile).to_contain_text("答题中")  # a tile update from process A, seen on process B

        candidate.evaluate("() => document.dispatchEvent(new Event('copy'))")
        expect(proctor.locator("#events li").first).to_contain_text("尝试复制")

        prompts = Prompts(proctor)
        prompts.answer("10", "跨进程补时")
        tile.click()
        proctor.click("[data-action=extend]")  # acted on B, pushed to the candidate on A
        expect(candidate.locator("#countdown")).to_have_text(re.compile(r"01:(39|40):\d\d"), timeout=3000)
