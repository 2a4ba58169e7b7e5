"""The booking service stops answering while the widget is open: the visitor reads a clear
message with a way to try again, not a blank or broken dialog."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.async_api import Page, expect

from app.db import Database
from tests.browser.conftest import open_host_page
from tests.browser.flow import heading_has_focus
from tests.conftest import WebProcess

pytestmark = pytest.mark.browser


async def test_the_widget_says_to_try_again_when_the_service_is_unreachable(
    page: Page, web_processes: tuple[Database, Callable[[], WebProcess]]
) -> None:
    _, start = web_processes
    server = start()
    await open_host_page(page, server.url + "/")
    await page.get_by_role("button", name="Book now").click()
    await heading_has_focus(page, "Where do you need service?")
    await page.get_by_label("ZIP code").fill("78701")
    assert server.stop() == 0

    await page.get_by_role("button", name="Continue").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_role("alert")).to_have_text("We couldn't reach the booking service. Check your connection and try again.")
    await heading_has_focus(page, "Something went wrong")
    await expect(dialog.get_by_role("button", name="Try again")).to_be_visible()
