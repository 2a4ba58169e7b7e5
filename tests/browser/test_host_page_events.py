"""The funnel on the host page (docs/EVENTS.md): the exact sequence of wrkbelt:* events a
booking, an abandonment and a lead send to the company's page, each exactly once."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import open_host_page
from tests.browser.flow import book_with_mouse, heading_has_focus
from tests.browser.host_site import HostSite
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


async def sequence(page: Page) -> list[tuple[str, dict]]:
    return [(e["name"], e["detail"]) for e in await page.evaluate("window.__wrkbeltEvents")]


def names(events: list[tuple[str, dict]]) -> list[str]:
    return [name if name != "step" else f"step:{detail['step']}" for name, detail in events]


async def test_a_booking_sends_ready_open_each_step_confirmed_and_close(page: Page, live_server: LiveServer, host_site: HostSite) -> None:
    await open_host_page(page, host_site.url + "/blank.html")
    await page.get_by_role("button", name="Book now").click()
    await book_with_mouse(page)
    await page.get_by_role("button", name="Done").click()
    await page.wait_for_function("() => window.__wrkbeltEvents.at(-1).name === 'close'")
    events = await sequence(page)
    assert names(events) == [
        "ready", "open", "step:ZipCode", "step:ServiceSelection", "step:ServiceSelection", "step:ServiceSelection",
        "step:AdditionalDetails", "step:Timeslot", "step:Timeslot", "step:Customer", "step:Summary", "step:Confirmation",
        "booking-confirmed", "close",
    ]  # no abandon: the visitor booked
    assert events[0][1] == {"version": 1} and events[1][1] == {"flow": None}
    booking = await live_server.database.bookings.find_one({})
    assert events[-2][1]["reference"] == booking["_id"]


async def test_closing_without_booking_is_one_abandonment(page: Page, host_site: HostSite) -> None:
    """Closed at Timeslot, reopened, closed again: one wrkbelt:abandon, naming the step the
    visitor left and that they gave no contact details; then leaving the page adds none."""
    await open_host_page(page, host_site.url + "/blank.html")
    await page.get_by_role("button", name="Book now").click()
    await heading_has_focus(page, "Where do you need service?")
    await page.get_by_label("ZIP code").fill("78701")
    await page.get_by_role("button", name="Continue").click()
    await heading_has_focus(page, "What can we help with?")
    await page.keyboard.press("Escape")
    await page.wait_for_function("() => window.__wrkbeltEvents.at(-1).name === 'abandon'")
    await page.get_by_role("button", name="Book now").click()
    await heading_has_focus(page, "What can we help with?")
    await page.get_by_role("dialog").get_by_role("button", name="Close").click()
    await page.wait_for_function("() => window.__wrkbeltEvents.at(-1).name === 'close'")
    events = await sequence(page)
    assert names(events) == [
        "ready", "open", "step:ZipCode", "step:ServiceSelection", "close", "abandon",
        "open", "step:ServiceSelection", "close",
    ]
    assert events[5][1] == {"step": "ServiceSelection", "contact_given": False, "reason": "closed", "flow": None}


async def test_leaving_the_page_mid_booking_is_an_abandonment(page: Page, host_site: HostSite) -> None:
    await open_host_page(page, host_site.url + "/blank.html")
    await page.evaluate("""() => window.addEventListener('wrkbelt:abandon', (e) => {
      navigator.sendBeacon('/collect', JSON.stringify(e.detail)); })""")  # as a page's analytics would
    await page.get_by_role("button", name="Book now").click()
    await heading_has_focus(page, "Where do you need service?")
    await page.goto(host_site.url + "/late.html")  # the visitor follows a link away
    for _ in range(50):
        if host_site.posted:
            break
        await page.wait_for_timeout(100)
    left = [json.loads(body) for path, body in host_site.posted if path == "/collect"]
    assert left == [{"step": "ZipCode", "contact_given": False, "reason": "left", "flow": None}]


async def test_a_lead_is_announced_once_then_closing_is_an_abandonment_with_contact(page: Page, host_site: HostSite) -> None:
    await open_host_page(page, host_site.url + "/blank.html")
    await page.get_by_role("button", name="Book now").click()
    await heading_has_focus(page, "Where do you need service?")
    await page.get_by_label("ZIP code").fill("10001")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_text("We don't serve 10001 yet.")).to_be_visible()
    await page.get_by_role("dialog").get_by_label("Phone").fill("(512) 555-0100")
    await page.get_by_role("button", name="Keep me posted").click()
    await expect(page.get_by_text("Thanks — we'll be in touch.")).to_be_visible()
    await page.get_by_role("dialog").get_by_role("button", name="Close").click()
    await page.wait_for_function("() => window.__wrkbeltEvents.at(-1).name === 'abandon'")
    events = await sequence(page)
    assert names(events) == ["ready", "open", "step:ZipCode", "step:ZipCode", "step:ZipCode", "lead", "close", "abandon"]
    assert events[5][1] == {"step": "ZipCode", "reason": "out_of_area", "flow": None}
    assert events[7][1] == {"step": "ZipCode", "contact_given": True, "reason": "closed", "flow": None}
