from __future__ import annotations

import os
import shutil

import pytest

from tests.e2e.server import one_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CBT_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (CBT_REQUIRE_BROWSER) but not installed: apt-get install chromium")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with one_server(tmp_path_factory.mktemp("e2e")) as server:
        yield server


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(15000)
    yield context
    context.close()


@pytest.fixture(scope="module")
def redis_url(redis_server):
    return redis_server.url
