"""Debian's Chromium driven by Playwright (it cannot download a browser of its own here)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.browser.host_site import HostSite, start_host_site
from tests.conftest import LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps trying hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
def host_site(live_server: LiveServer) -> Iterator[HostSite]:
    """A customer's website on another origin, with the scheduler's tag (override it for another)."""
    site = start_host_site(live_server.url)
    yield site
    site.stop()


async def open_host_page(page: Page, url: str) -> None:
    """Go to a page with the widget's tag and wait until its triggers are live."""
    await page.goto(url)
    await page.wait_for_function("() => window.Wrkbelt && window.Wrkbelt.ready === true", timeout=10000)


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    tab = await context.new_page()
    tab.errors = []  # type: ignore[attr-defined]
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))  # type: ignore[attr-defined]
    tab.on("console", lambda message: message.type == "error" and tab.errors.append(message.text))  # type: ignore[attr-defined]
    yield tab
    await context.close()
