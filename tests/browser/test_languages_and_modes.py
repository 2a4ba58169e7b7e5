"""What the best widgets do (#18), in Chromium: the widget in Spanish (asked by the page, or
by the browser's language), the company in its title bar, windows in the company's time
named for a visitor elsewhere, the form inline in the page and a floating button. Every
Spanish step is screenshotted at desktop and phone width and passes axe-core, and so does
every state of the designers' gallery in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import open_host_page
from tests.browser.flow import book_with_mouse, heading_has_focus
from tests.browser.host_site import HostSite
from tests.browser.test_embed import ARTIFACTS, AXE, SERIOUS
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

AXE_ON = """async (element) => {
  const result = await axe.run(element, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}));
}"""


@pytest.fixture
def artifacts() -> Path:
    (ARTIFACTS / "gallery").mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


async def test_a_spanish_page_gets_every_step_in_spanish_screenshotted_and_accessible(
    browser: Browser, host_site: HostSite, live_server: LiveServer, artifacts: Path
) -> None:
    """data-wrkbelt-locale="es": the title bar, every step, its errors and the confirmation
    in Spanish; at desktop and phone width, axe-core finds nothing serious."""
    violations: dict[str, list] = {}
    for size, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 800})):
        context = await browser.new_context(viewport=viewport)
        page = await context.new_page()
        await open_host_page(page, host_site.url + "/es.html")
        await page.add_script_tag(path=str(AXE))
        await page.get_by_role("button", name="Reservar").click()
        dialog = page.get_by_role("dialog", name="Reserve una visita")
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_text("Demo Plumbing & Air", exact=True)).to_be_visible()
        call = dialog.get_by_role("link", name="Llámenos (512) 555-0100")
        assert await call.get_attribute("href") == "tel:5125550100"
        await expect(dialog.get_by_role("button", name="Cerrar")).to_be_visible()

        async def check(step: str, page: Page = page, size: str = size) -> None:
            await page.screenshot(path=str(artifacts / f"es-{size}-{step}.png"), animations="disabled")
            found = await page.evaluate(AXE_ON.replace("(element)", "()").replace("axe.run(element", "axe.run(document.getElementById('wrkbelt-scheduler-container')"))
            serious = [v for v in found if v["impact"] in SERIOUS]
            if serious:
                violations[f"{size}/{step}"] = serious

        await book_with_mouse(page, on_step=check, show_errors=True, language="es")
        booking = await live_server.database.bookings.find_one({})
        assert booking["locale"] == "es_US"  # the visitor's emails and page will speak it
        await live_server.database.bookings.delete_many({})
        await live_server.database.sessions.delete_many({})
        await context.close()
    assert violations == {}


async def test_the_browsers_language_is_enough(browser: Browser, host_site: HostSite) -> None:
    context = await browser.new_context(locale="es-MX")  # Accept-Language: es-MX
    page = await context.new_page()
    await open_host_page(page, host_site.url + "/blank.html")
    await page.get_by_role("button", name="Book now").click()
    await heading_has_focus(page, "¿Dónde necesita el servicio?")
    await expect(page.get_by_text("Paso 1 de 6")).to_be_visible()
    await context.close()


async def test_a_visitor_in_another_time_zone_reads_the_companys_time(browser: Browser, host_site: HostSite) -> None:
    """The company is in Austin (America/Chicago); a visitor in Los Angeles reads each window
    as "8 – 11 am Austin time", so nobody turns up two hours out."""
    context = await browser.new_context(timezone_id="America/Los_Angeles")
    page = await context.new_page()
    await open_host_page(page, host_site.url + "/blank.html")
    await page.get_by_role("button", name="Book now").click()
    labels: list[str] = []

    async def read(step: str) -> None:
        if step == "4-timeslot-day":
            labels.extend(await page.get_by_role("dialog").locator(".wb-choice__label").all_inner_texts())

    await book_with_mouse(page, on_step=read)
    assert labels and all(label.endswith("Austin time") for label in labels), labels
    await context.close()


IN_PAGE = "#in-page"
IN_PAGE_HEADING_FOCUSED = """(text) => {
  const active = document.querySelector('#in-page wrkbelt-scheduler').shadowRoot.activeElement;
  return !!active && active.hasAttribute('data-step-heading') && active.textContent === text;
}"""


async def test_the_form_in_the_page_and_the_floating_button(browser: Browser, host_site: HostSite, artifacts: Path) -> None:
    """`data-wrkbelt-inline`: the first step is in the page at once, without taking focus or
    scrolling the page; it grows with its step; a visitor books in it. The floating button
    (`data-wrkbelt-floating`) opens the modal, a session of its own, and gets focus back."""
    for size, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 320, "height": 640})):
        context = await browser.new_context(viewport=viewport)
        page = await context.new_page()
        await open_host_page(page, host_site.url + "/modes.html")
        inline = page.locator(IN_PAGE)
        region = inline.get_by_role("region", name="Book a visit")
        await expect(region.get_by_role("heading", name="Where do you need service?")).to_be_visible()
        assert await page.evaluate("() => document.activeElement === document.body && window.scrollY === 0")
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        await expect(inline.get_by_role("button", name="Close")).to_have_count(0)  # part of the page: nothing to close
        small = (await region.bounding_box() or {}).get("height", 0)
        await page.screenshot(path=str(artifacts / f"inline-{size}-1-zip-code.png"), full_page=False)

        await region.get_by_label("ZIP code").fill("78701")
        await region.get_by_role("button", name="Continue").click()
        await page.wait_for_function(IN_PAGE_HEADING_FOCUSED, arg="What can we help with?")
        for answer in ("Plumbing", "A leak or burst pipe", "Inside the house"):
            await region.get_by_label(answer, exact=True).check()
            await region.get_by_role("button", name="Continue").click()
        await page.wait_for_function(IN_PAGE_HEADING_FOCUSED, arg="Tell us a little more")
        await region.get_by_label("Describe the problem").fill("Water under the sink")
        await region.get_by_label("Property type").select_option("House")
        await region.get_by_role("button", name="Continue").click()
        await page.wait_for_function(IN_PAGE_HEADING_FOCUSED, arg="Pick an arrival window")
        assert (await region.bounding_box() or {}).get("height", 0) > small  # sized to its content
        await page.screenshot(path=str(artifacts / f"inline-{size}-4-timeslot.png"), full_page=False)
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]

        # The floating button: its own shadow root, the modal, its own session.
        launcher = page.get_by_role("button", name="Book now")
        await launcher.click()
        await heading_has_focus(page, "Where do you need service?")
        await page.screenshot(path=str(artifacts / f"floating-{size}-open.png"), full_page=False)
        await page.get_by_role("dialog").get_by_role("button", name="Close").click()
        assert await page.evaluate(
            "() => document.activeElement.localName === 'wrkbelt-launcher'"
            " && document.activeElement.shadowRoot.activeElement.classList.contains('wb-launcher')"
        )
        await expect(region.get_by_role("heading", name="Pick an arrival window")).to_be_visible()  # the inline one kept its place
        await context.close()


async def test_the_gallery_shows_every_state_in_english_and_spanish(browser: Browser, live_server: LiveServer, artifacts: Path) -> None:
    """The designers' gallery (/_dev/gallery?lang=…): each state at desktop and phone width,
    screenshotted for a person to look at, and nothing serious for axe-core."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    violations: dict[str, list] = {}
    for language in ("en", "es"):
        await page.goto(f"{live_server.url}/_dev/gallery?lang={language}")
        sections = page.locator("section[id^=state-]")
        count = await sections.count()
        assert count >= 30
        await page.wait_for_function(
            "() => [...document.querySelectorAll('iframe[data-fragment]')].every(f => f.contentDocument"
            " && f.contentDocument.querySelector('wrkbelt-scheduler') && f.contentDocument.querySelector('wrkbelt-scheduler').shadowRoot.querySelector('.wb-step'))"
        )
        for index in range(count):
            section = sections.nth(index)
            title = await section.locator("h2").inner_text()
            name = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            await section.scroll_into_view_if_needed()
            await section.screenshot(path=str(artifacts / "gallery" / f"{language}-{index + 1:02d}-{name}.png"), animations="disabled")
        for frame in page.frames[1:]:
            if not await frame.evaluate("() => !!document.querySelector('wrkbelt-scheduler')"):
                continue
            await frame.add_script_tag(path=str(AXE))
            found = await frame.evaluate("async () => { const r = await axe.run(document.querySelector('wrkbelt-scheduler'), {resultTypes: ['violations']});"
                                         " return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))})); }")
            serious = [v for v in found if v["impact"] in SERIOUS]
            if serious:
                violations[f"{language}/{frame.name or frame.url}"] = serious
    await context.close()
    assert violations == {}
