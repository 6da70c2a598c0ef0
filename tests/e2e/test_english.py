"""A browser that reads English gets the whole exam page in English: labels, the scripts' own texts,
the names the server sends (part, level, item type) and its save state; the questions themselves
are the pack's Chinese content. A dashboard in English names tile states in English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_exam_in_browser import login, open_question, start

pytestmark = pytest.mark.e2e
IDEOGRAPH = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture
def english(browser):
    context = browser.new_context(locale="en-US")  # Accept-Language: en-US
    context.set_default_timeout(15000)
    yield context
    context.close()


def test_a_candidate_takes_the_exam_in_english(english, server, tmp_path):
    account = server.demo(candidates=1)["candidates"][0]
    page = english.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(server.url)
    assert page.locator("html").get_attribute("lang") == "en"
    assert not IDEOGRAPH.search(page.locator("body").inner_text()), "the login page is English"
    login(page, server, account)
    expect(page.locator("#identity-title")).to_have_text("Confirm candidate details")
    expect(page.locator("#f-part")).to_have_text("Theory")
    assert not IDEOGRAPH.search(page.locator("#f-level").inner_text()), "the level's name is translated"
    page.screenshot(path=str(tmp_path / "identity-en.png"))
    start(page)
    expect(page.locator("#submit-button")).to_have_text("Hand in")
    expect(page.locator(".answer-card h2")).to_have_text("Answer card")
    question = page.evaluate("() => document.querySelector('#item fieldset').dataset.qid")
    open_question(page, question)
    kind = page.locator("#item .qtype").first.inner_text()
    assert not IDEOGRAPH.search(kind), kind  # e.g. [Single choice, 1 pt]
    first = page.locator("#item input").first
    first.check()
    expect(page.locator("#save-state")).to_have_text("Saved", timeout=15000)
    page.screenshot(path=str(tmp_path / "exam-en.png"))
    toolbar = page.locator("#toolbar").inner_text()
    assert not IDEOGRAPH.search(toolbar), toolbar
