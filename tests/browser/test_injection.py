"""Whatever a visitor types is shown as text: script and HTML payloads through the browser."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import open_host_page
from tests.browser.flow import book_with_mouse
from tests.browser.host_site import HostSite
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

PAYLOADS = {
    "First name": '<img src=x onerror="window.__pwned=1">',
    "Last name": "<script>window.__pwned=2</script>",
    "Describe the problem": '<b>bold</b><iframe src="javascript:window.__pwned=3"></iframe>',
    "City": "Austin</dd><dd onclick=alert(1)>",
}


async def test_typed_markup_is_shown_as_text(page: Page, live_server: LiveServer, host_site: HostSite) -> None:
    await open_host_page(page, host_site.url + "/blank.html")
    await page.get_by_role("button", name="Book now").click()

    async def check_summary(step: str) -> None:
        if step != "6-summary":
            return
        dialog = page.get_by_role("dialog")
        await expect(dialog.get_by_text(PAYLOADS["Describe the problem"], exact=False)).to_be_visible()
        await expect(dialog.get_by_text(PAYLOADS["Last name"], exact=False)).to_be_visible()
        injected = await page.evaluate("""() => {
          const root = document.getElementById('wrkbelt-scheduler-container').shadowRoot;
          return root.querySelectorAll('#wb-step img, script, iframe, b, [onclick], [onerror]').length;  // (the title bar has the company's logo)
        }""")
        assert injected == 0

    await book_with_mouse(page, on_step=check_summary, typed=PAYLOADS)
    assert await page.evaluate("window.__pwned") is None
    booking = await live_server.database.bookings.find_one({})
    assert booking["customer"]["first_name"] == PAYLOADS["First name"]  # kept as typed, shown as text
