"""A visitor books on the demo company's page in Chromium, with the keyboard and the mouse."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from icalendar import Calendar
from playwright.async_api import Page, expect

from app.db import Database
from app.demo.mailbox import Mailbox
from tests.browser.conftest import open_host_page
from tests.browser.flow import book_with_mouse, heading_has_focus
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


async def test_visitor_books_on_the_demo_page(page: Page, live_server: LiveServer) -> None:
    await open_host_page(page, live_server.url + "/")
    await page.evaluate("window.scrollTo(0, 150)")
    scrolled = await page.evaluate("window.scrollY")
    assert scrolled > 0
    await page.get_by_role("button", name="Book now").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await heading_has_focus(page, "Where do you need service?")
    assert await page.evaluate("document.documentElement.style.overflow") == "hidden"

    await page.get_by_label("ZIP code").fill("10001")
    await page.get_by_role("button", name="Continue").click()
    await expect(dialog.get_by_text("We don't serve 10001 yet.")).to_be_visible()
    await page.get_by_label("ZIP code").fill("78701")
    await page.get_by_role("button", name="Continue").click()

    await heading_has_focus(page, "What can we help with?")
    await page.get_by_label("Plumbing").check()
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_text("What's going on with your plumbing?")).to_be_visible()
    await page.get_by_label("A leak or burst pipe").check()
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("Inside the house").check()
    await page.get_by_role("button", name="Continue").click()

    await heading_has_focus(page, "Tell us a little more")
    await page.get_by_role("button", name="Continue").click()
    error = page.get_by_text("Please fill this in.")
    await expect(error).to_be_visible()
    assert await page.get_by_label("Describe the problem").get_attribute("aria-describedby") == "wb-error-detail-description"
    await page.get_by_label("Describe the problem").fill("Water under the sink")
    await page.get_by_label("Property type").select_option("House")
    await page.get_by_role("button", name="Continue").click()

    await heading_has_focus(page, "Pick an arrival window")
    await dialog.locator(".wb-day--open").first.click()
    await dialog.locator("input[name=window]:not([disabled])").first.check()
    await page.get_by_role("button", name="Continue").click()

    await heading_has_focus(page, "Your contact details")
    await page.get_by_label("First name").fill("Ada")
    await page.get_by_label("Last name").fill("Lovelace")
    await page.get_by_label("Phone").fill("512 555 0142")
    await page.get_by_label("Email").fill("ada@example.com")
    await page.get_by_label("Street address").fill("100 Congress Ave")
    await page.get_by_label("City").fill("Austin")
    await page.get_by_label("State").fill("TX")
    await page.get_by_role("button", name="Continue").click()

    await heading_has_focus(page, "Review your booking")
    await expect(dialog.get_by_text("Leak repair")).to_be_visible()
    await page.get_by_role("button", name="Back").click()
    await heading_has_focus(page, "Your contact details")
    await expect(page.get_by_label("First name")).to_have_value("Ada")
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("button", name="Confirm booking").click()

    await heading_has_focus(page, "You're booked!")
    database: Database = live_server.database
    booking = await database.bookings.find_one({})
    await expect(dialog.get_by_text(booking["_id"])).to_be_visible()
    assert booking["customer"]["first_name"] == "Ada"
    await expect(dialog.get_by_role("link", name="Add to calendar")).to_be_visible()

    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert await page.evaluate("document.activeElement.textContent") == "Book now"
    assert await page.evaluate("window.scrollY") == scrolled  # the page did not jump
    assert page.errors == []  # type: ignore[attr-defined]


async def test_the_booking_email_arrives_and_done_starts_a_new_booking(page: Page, live_server: LiveServer, mailbox: Mailbox) -> None:
    """From the widget to the visitor's inbox (the local SMTP server), then *Done*."""
    await open_host_page(page, live_server.url + "/")
    await page.get_by_role("button", name="Book now").click()
    await book_with_mouse(page)
    dialog = page.get_by_role("dialog")
    booking = await live_server.database.bookings.find_one({})
    [mail] = await mailbox.wait_for(1)
    assert mail.to == "ada@example.com" and booking["_id"] in mail.text

    async with page.expect_download() as download:
        await dialog.get_by_role("link", name="Add to calendar").click()
    saved = Path(await (await download.value).path())
    calendar = Calendar.from_ical(await asyncio.to_thread(saved.read_bytes))
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]).startswith(booking["_id"] + "@")

    await dialog.get_by_role("button", name="Done").click()
    await expect(dialog).to_be_hidden()
    await page.get_by_role("button", name="Book now").click()
    await heading_has_focus(page, "Where do you need service?")  # a new booking, not the confirmation
    assert await live_server.database.sessions.count_documents({}) == 2

    await page.goto(live_server.url + "/_dev/mail")
    await page.get_by_role("link", name=mail.subject).click()
    frame = page.frame_locator("iframe")
    await expect(frame.get_by_role("heading", name="You're booked!")).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]


async def test_closing_and_reopening_resumes_the_session(page: Page, live_server: LiveServer) -> None:
    await open_host_page(page, live_server.url + "/")
    await page.get_by_role("button", name="Book now").click()
    await page.get_by_label("ZIP code").fill("78701")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_text("What kind of service do you need?")).to_be_visible()
    await page.get_by_role("button", name="Close").click()
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await page.get_by_role("button", name="Book now").click()
    await heading_has_focus(page, "What can we help with?")
    assert await live_server.database.sessions.count_documents({}) == 1


async def test_data_attributes_prefill_the_zip(page: Page, live_server: LiveServer) -> None:
    await open_host_page(page, live_server.url + "/")
    await page.get_by_role("link", name="Book a visit in 78701").click()
    await expect(page.get_by_label("ZIP code")).to_have_value("78701")
    assert page.url.endswith("/")  # the link's href="#" did not navigate


async def test_commercial_page_opens_its_own_flow(page: Page, live_server: LiveServer) -> None:
    await open_host_page(page, live_server.url + "/commercial")
    await page.get_by_role("button", name="Book commercial service").click()
    await heading_has_focus(page, "What does your business need?")


async def test_a_slow_step_shows_it_is_busy_and_takes_one_click(page: Page, live_server: LiveServer) -> None:
    """On a slow network (each step answer 800 ms late) Continue is disabled at once and shows
    progress after ~150 ms; clicking again meanwhile sends nothing more (#18 item 2)."""
    sent: list[str] = []

    async def slow(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.method == "POST":
            sent.append(route.request.url)
            await asyncio.sleep(0.8)
        await route.continue_()

    await open_host_page(page, live_server.url + "/")
    await page.get_by_role("button", name="Book now").click()
    await heading_has_focus(page, "Where do you need service?")
    await page.route("**/session/steps/**", slow)
    await page.get_by_label("ZIP code").fill("78701")
    button = page.get_by_role("button", name="Continue")
    await button.click()
    await expect(button).to_be_disabled(timeout=100)
    await page.wait_for_timeout(300)
    spinner = await button.evaluate("b => getComputedStyle(b, '::after').opacity")
    assert spinner == "1"
    await button.click(force=True)  # an impatient second tap
    await heading_has_focus(page, "What can we help with?")
    assert len(sent) == 1
    await expect(page.get_by_role("button", name="Continue")).to_be_enabled()


async def test_no_step_scrolls_sideways_on_a_small_phone(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """At 320 px, with a long email address and street, no step is wider than the screen and
    the Summary's Change links stay on it (#18 item 6)."""
    context = await browser.new_context(viewport={"width": 320, "height": 640})
    page = await context.new_page()
    widths: dict[str, int] = {}

    async def measure(step: str) -> None:
        widths[step] = await page.evaluate("""() => {
          const root = document.getElementById('wrkbelt-scheduler-container').shadowRoot;
          const widest = [...root.querySelectorAll('*')].reduce((w, e) => Math.max(w, e.getBoundingClientRect().right), 0);
          return Math.max(document.documentElement.scrollWidth, Math.ceil(widest));
        }""")

    await open_host_page(page, live_server.url + "/")
    await page.get_by_role("button", name="Book now").click()
    long_email = "maximilian.alexander-montgomery.the.third@plumbing-and-heating-services-of-austin.example"
    await book_with_mouse(page, on_step=measure, typed={"Email": long_email, "Street address": "12345 North Lamar Boulevard Southwest Frontage Road"})
    await measure("confirmation")
    await context.close()
    assert {step: w for step, w in widths.items() if w > 320} == {}


async def test_a_tap_before_the_widget_is_ready_opens_it_when_ready(page: Page, live_server: LiveServer) -> None:
    """On a slow phone the core arrives 2 s late; "Book now" tapped before then shows it is
    busy at once and the widget opens when ready, instead of the tap being lost (#18 item 1)."""
    async def late(route) -> None:  # type: ignore[no-untyped-def]
        await asyncio.sleep(2.0)
        await route.continue_()

    await page.route("**/scheduler-core*", late)
    async with page.expect_response("**/booking-flow-routers/button-triggers"):
        await page.goto(live_server.url + "/")
    assert not await page.evaluate("Boolean(window.Wrkbelt && window.Wrkbelt.ready)")
    book = page.get_by_role("button", name="Book now")
    await book.click()
    await expect(book).to_have_attribute("aria-busy", "true", timeout=200)
    await heading_has_focus(page, "Where do you need service?")
    await expect(book).not_to_have_attribute("aria-busy", "true")
    assert await page.evaluate("window.Wrkbelt.ready") is True
