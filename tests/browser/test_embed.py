"""The one-tag embed on customers' pages of another origin: safe for them, usable by visitors."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from app import ROOT
from tests.browser.conftest import open_host_page
from tests.browser.flow import book_with_keyboard, book_with_mouse, heading_has_focus
from tests.browser.host_site import HERE, HostSite, start_host_site
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "tests" / "artifacts"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


async def events(page: Page) -> list[dict]:
    return await page.evaluate("window.__wrkbeltEvents")


async def test_booking_on_another_origin_ends_with_the_confirmed_event(
    page: Page, live_server: LiveServer, host_site: HostSite
) -> None:
    await page.goto(host_site.url + "/blank.html?utm_source=newsletter&utm_campaign=spring&gclid=G-1&email=x@y.z", referer="https://www.google.com/search?q=plumber")
    await page.wait_for_function("() => window.Wrkbelt && window.Wrkbelt.ready === true", timeout=10000)
    await page.get_by_role("button", name="Book now").click()
    await book_with_mouse(page)

    booking = await live_server.database.bookings.find_one({})
    confirmed = [e["detail"] for e in await events(page) if e["name"] == "booking-confirmed"]
    assert confirmed == [{
        "reference": booking["_id"],
        "status": "confirmed",
        "service": "Leak repair",
        "window": {"date": booking["date"], "label": booking["window"]["label"]},
    }]
    steps = [e["detail"]["step"] for e in await events(page) if e["name"] == "step"]
    assert steps[0] == "ZipCode" and steps[-1] == "Confirmation"
    assert booking["attribution"] == {
        "utm_source": "newsletter",
        "utm_campaign": "spring",
        "gclid": "G-1",
        "page": host_site.url + "/blank.html",
        "referrer": "https://www.google.com/search",
    }
    await page.get_by_role("button", name="Close").click()
    await page.wait_for_function("() => window.__wrkbeltEvents.at(-1).name === 'close'", timeout=5000)
    # No cookies, no storage of the host's origin.
    assert await page.context.cookies() == []
    assert await page.evaluate("[document.cookie, localStorage.length, sessionStorage.length]") == ["", 0, 0]


async def test_the_confirmed_event_fires_once_per_booking(page: Page, live_server: LiveServer, host_site: HostSite) -> None:
    """A double click on Confirm, and closing and reopening: one conversion, not three (#18)."""
    await page.goto(host_site.url + "/blank.html")
    await page.wait_for_function("() => window.Wrkbelt && window.Wrkbelt.ready === true", timeout=10000)
    await page.get_by_role("button", name="Book now").click()
    await book_with_mouse(page, double_click_confirm=True)
    await page.wait_for_timeout(500)  # the second click's answer has been swapped in too
    await page.get_by_role("button", name="Close").click()
    await page.get_by_role("button", name="Book now").click()
    await expect(page.get_by_role("heading", name="You're booked!")).to_be_visible()  # reopened on the confirmation
    await page.wait_for_timeout(500)
    booking = await live_server.database.bookings.find_one({})
    confirmed = [e["detail"]["reference"] for e in await events(page) if e["name"] == "booking-confirmed"]
    assert confirmed == [booking["_id"]]


async def test_hostile_host_page_and_widget_leave_each_other_alone(
    browser: Browser, live_server: LiveServer, host_site: HostSite
) -> None:
    shots: dict[str, bytes] = {}
    for name in ("blank", "hostile"):
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await open_host_page(page, f"{host_site.url}/{name}.html")
        head_before = await page.evaluate("document.head.children.length")
        if name == "hostile":
            assert await page.evaluate("window.htmx.version") == "2.0.11"
            await page.get_by_role("button", name="Load host content").click()
            await expect(page.locator("#host-loaded")).to_have_text("Loaded by the host's own htmx")
            assert host_site.hits.get("/host-fragment") == 1  # only the host's htmx fetched it
        await page.get_by_role("button", name="Book now").click()
        await heading_has_focus(page, "Where do you need service?")
        shots[name] = await page.locator("#wb-step").screenshot(animations="disabled")
        await page.get_by_label("ZIP code").fill("78701")
        await page.get_by_role("button", name="Continue").click()
        await heading_has_focus(page, "What can we help with?")
        assert await page.evaluate("window.__leakedEvents") == []
        assert await page.evaluate("document.head.children.length") == head_before
        assert await page.evaluate("document.adoptedStyleSheets.length") == 0
        assert await page.evaluate("[...document.querySelectorAll('[hx-get]')].every(e => !e._htmx)")  # ours never processed them
        if name == "hostile":
            assert await page.evaluate("window.htmx.version") == "2.0.11"
        await context.close()
    assert shots["blank"] == shots["hostile"], "the widget looks different on the hostile page"


async def test_widget_works_under_the_documented_csp(page: Page, live_server: LiveServer, host_site: HostSite) -> None:
    response = await page.goto(host_site.url + "/csp.html")
    assert "script-src 'self' " + live_server.url in response.headers["content-security-policy"]
    await page.wait_for_function("() => window.Wrkbelt && window.Wrkbelt.ready === true", timeout=10000)
    await page.get_by_role("button", name="Book now").click()
    await book_with_mouse(page)
    assert await page.evaluate("window.__cspViolations") == []


async def test_a_foreign_origin_gets_a_console_message_not_a_broken_modal(page: Page, live_server: LiveServer) -> None:
    site = start_host_site(live_server.url, host="127.0.0.2")  # not among the demo's allowed origins
    try:
        messages: list[str] = []
        page.on("console", lambda message: messages.append(message.text))
        await page.goto(site.url + "/blank.html")
        for _ in range(100):
            if any("refused this page (http://127.0.0.2" in m for m in messages):
                break
            await page.wait_for_timeout(100)
        assert any("refused this page (http://127.0.0.2" in m for m in messages), messages
        await page.get_by_role("button", name="Book now").click()
        await page.wait_for_timeout(300)
        await expect(page.get_by_role("dialog")).to_be_hidden()
    finally:
        site.stop()


async def test_the_tag_added_twice_after_load_makes_one_widget(page: Page, host_site: HostSite) -> None:
    await page.goto(host_site.url + "/late.html")
    await page.evaluate("""() => {
      const scheduler = document.querySelector('[data-scheduler]').dataset.scheduler;
      for (let i = 0; i < 2; i++) {
        const tag = document.createElement('script');
        tag.src = scheduler + '/cdn/scheduler.js';
        tag.dataset.key = 'pk_test_demo';
        tag.async = true;
        document.body.appendChild(tag);
      }
    }""")
    await page.wait_for_function("() => window.Wrkbelt && window.Wrkbelt.ready === true", timeout=10000)
    await page.evaluate("Wrkbelt.open({zip: '78701', name: 'Grace Hopper', email: 'grace@example.com'})")
    await expect(page.get_by_label("ZIP code")).to_have_value("78701")
    assert await page.evaluate("document.querySelectorAll('#wrkbelt-scheduler-container').length") == 1
    await page.evaluate("Wrkbelt.close()")
    await expect(page.get_by_role("dialog")).to_be_hidden()


async def test_keyboard_only_booking_with_focus_trapped(page: Page, live_server: LiveServer, host_site: HostSite) -> None:
    await open_host_page(page, host_site.url + "/blank.html")
    await book_with_keyboard(page)
    for _ in range(25):
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "wrkbelt-scheduler-container"
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("dialog")).to_be_hidden()
    assert await page.evaluate("document.activeElement.textContent") == "Book now"
    assert await live_server.database.bookings.count_documents({}) == 1


async def test_phone_sized_screen_gets_a_full_screen_modal(browser: Browser, host_site: HostSite) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await open_host_page(page, host_site.url + "/blank.html")
    await page.get_by_role("button", name="Book now").click()
    await heading_has_focus(page, "Where do you need service?")
    box = await page.get_by_role("dialog").bounding_box()
    assert box is not None and box["width"] >= 389 and box["height"] >= 799
    await context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


async def test_every_step_passes_axe_and_is_screenshotted(
    browser: Browser, host_site: HostSite, artifacts: Path
) -> None:
    """No serious or critical axe-core violation on any step; screenshots for a person to look at."""
    violations: dict[str, list] = {}
    for size, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 800})):
        context = await browser.new_context(viewport=viewport)
        page = await context.new_page()
        await open_host_page(page, host_site.url + "/blank.html")
        await page.add_script_tag(path=str(AXE))
        await page.get_by_role("button", name="Book now").click()

        async def check(step: str, page: Page = page, size: str = size) -> None:
            await page.screenshot(path=str(artifacts / f"{size}-{step}.png"), animations="disabled")
            found = await page.evaluate("""async () => {
              const result = await axe.run(document.getElementById('wrkbelt-scheduler-container'), {resultTypes: ['violations']});
              return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}));
            }""")
            serious = [v for v in found if v["impact"] in SERIOUS]
            if serious:
                violations[f"{size}/{step}"] = serious

        await book_with_mouse(page, on_step=check, show_errors=True)
        await context.close()
    assert violations == {}
