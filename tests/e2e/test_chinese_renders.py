"""Chinese renders as Chinese, not as boxes: a machine without a CJK font draws every character as
the same empty box (tofu), and a test that only reads the DOM never notices. The page runs under its
Content-Security-Policy without a violation."""

from __future__ import annotations

import pytest

from tests.e2e.test_exam_in_browser import login

pytestmark = pytest.mark.e2e


def test_the_exam_page_draws_distinct_chinese_glyphs(context, server, tmp_path):
    account = server.demo(candidates=1)["candidates"][0]
    page = context.new_page()
    blocked = []  # the Content-Security-Policy lets the pages' own code run, and nothing else
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, server, account)
    page.screenshot(path=str(tmp_path / "exam-page.png"))  # kept for a person to look at

    # Each character alone, in the heading's own font: with a CJK font every picture differs; with
    # none, every one is the same box.
    heading = page.locator("#identity-title")
    assert "考生" in heading.inner_text()
    pictures = []
    for char in "考生信息确认":
        heading.evaluate("(el, c) => { el.textContent = c; }", char)
        pictures.append(heading.screenshot())
    assert len(set(pictures)) == len(pictures), "Chinese characters render as identical boxes: no CJK font"
    assert not blocked, blocked
