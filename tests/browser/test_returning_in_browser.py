"""A returning customer in Chromium, on a phone: typing a phone number the company knows
shows "Welcome back" with the address on file, masked, without moving the focus from the
field being typed in; choosing it hides the address fields; the booking is made at it and
the visitor sees only its masked street."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import open_host_page
from tests.browser.flow import book_with_mouse
from tests.browser.host_site import HostSite
from tests.browser.test_embed import ARTIFACTS, AXE, SERIOUS
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

FOCUSED_NAME = "() => { const a = document.getElementById('wrkbelt-scheduler-container').shadowRoot.activeElement; return a ? a.name : null; }"


async def test_welcome_back_offers_the_address_on_file_masked(browser: Browser, host_site: HostSite, live_server: LiveServer) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await open_host_page(page, host_site.url + "/blank.html")
    await page.get_by_role("button", name="Book now").click()
    await book_with_mouse(page)  # Ada books at 100 Congress Ave
    await page.get_by_role("button", name="Done").click()

    await page.add_script_tag(path=str(AXE))
    # The page knows the visitor's phone (data-wrkbelt-phone, Wrkbelt.open): Welcome back without typing it.
    await page.evaluate("() => Wrkbelt.open({phone: '512-555-0142'})")
    await expect(page.get_by_role("heading", name="Where do you need service?")).to_be_visible()
    await page.get_by_label("ZIP code").fill("78701")
    await page.get_by_role("button", name="Continue").click()
    for answer in ("Plumbing", "A leak or burst pipe", "Inside the house"):
        await page.get_by_label(answer, exact=True).check()
        await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("Describe the problem").fill("Again")
    await page.get_by_label("Property type").select_option("House")
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("dialog").locator(".wb-day--open").first.click()
    await page.get_by_role("dialog").locator("input[name=window]:not([disabled])").first.check()
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("group", name="Welcome back!")).to_be_visible()  # looked up as the step showed
    await page.get_by_role("button", name="Close").click()
    await page.evaluate("() => Wrkbelt.open({restart: true})")  # a new booking from the start
    shots = ARTIFACTS / "returning"
    shots.mkdir(parents=True, exist_ok=True)
    typed: dict[str, str | None] = {"Street address": None, "City": None, "State": None}

    async def on_step(step: str) -> None:
        if step != "5-customer":
            return
        dialog = page.get_by_role("dialog")
        await page.get_by_label("Phone", exact=True).fill("512 555 0142")
        await page.get_by_label("Email", exact=True).focus()  # the phone field's change
        welcome = dialog.get_by_role("group", name="Welcome back!")
        await expect(welcome).to_be_visible()
        assert await page.evaluate(FOCUSED_NAME) == "email"  # the visitor goes on typing where they were
        await expect(welcome.get_by_label("•••• Congress Ave")).to_be_visible()
        assert "100 Congress" not in await dialog.inner_text()
        await welcome.get_by_label("•••• Congress Ave").check()
        await expect(page.get_by_label("Street address", exact=True)).to_be_hidden()
        await page.screenshot(path=str(shots / "phone-welcome-back.png"), animations="disabled")
        found = await page.evaluate("async () => (await axe.run(document.getElementById('wrkbelt-scheduler-container'), {resultTypes: ['violations']})).violations.map(v => ({id: v.id, impact: v.impact}))")
        assert [v for v in found if v["impact"] in SERIOUS] == []

    async def summary_check(step: str) -> None:
        await on_step(step)
        if step == "6-summary":
            text = await page.get_by_role("dialog").inner_text()
            assert "•••• Congress Ave" in text and "100 Congress" not in text

    await book_with_mouse(page, on_step=summary_check, typed=typed)
    bookings = [b async for b in live_server.database.bookings.find({}).sort("created_at", 1)]
    assert len(bookings) == 2
    assert bookings[1]["customer"]["street"] == "100 Congress Ave" and bookings[1]["customer"]["on_file"] is True
    await context.close()
