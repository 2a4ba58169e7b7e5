"""The owner of the company, in Chromium at desktop and phone width: signs in by the link
in their email (read from the real SMTP server), finds the booking that needs attention,
marks it handled, works a lead, reads the funnel, adds a webhook, and signs out. Every
console page passes axe-core with nothing serious, and none scrolls sideways at 320 px."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from app.demo.mailbox import Mailbox
from app.domain.lead import Lead
from app.flows.models import OrganizationConfig
from app.webhooks.endpoints import Endpoint, new_secret
from tests.browser.test_embed import AXE, SERIOUS
from tests.conftest import LiveServer, demo_config
from tests.test_console import OWNER, booking

pytestmark = pytest.mark.browser


@pytest.fixture
def organization() -> OrganizationConfig:
    data = demo_config().model_dump()
    data["people"] = [{"email": OWNER, "role": "owner"}]
    return OrganizationConfig.model_validate(data)


async def serious_violations(page: Page) -> list[dict]:  # type: ignore[type-arg]
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate("""async () => {
      const result = await axe.run(document, {resultTypes: ['violations']});
      return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return [v for v in found if v["impact"] in SERIOUS]


async def no_sideways_scroll(page: Page) -> None:
    await page.set_viewport_size({"width": 320, "height": 700})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} is {width} px wide at 320 px"


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 800}], ids=["desktop", "phone"])
async def test_the_owner_signs_in_and_handles_a_booking(browser: Browser, live_server: LiveServer, mailbox: Mailbox, viewport: dict[str, int], tmp_path: Path) -> None:
    created = datetime.now(UTC)  # clock-ok: stored times only order the list; the server's clock is the test's
    await live_server.database.bookings.insert_many([
        booking("WB-NEEDS01", status="needs_attention", first="Grace", last="Hopper",
                email="grace.hopper.with.a.long.address@navy-reserve.example", created=created).to_document(),
        booking("WB-FINE001", first="Ada", last="Lovelace", created=created).to_document(),
    ])
    await live_server.database.leads.insert_one(Lead(
        id="s-lead", organization_id="demo-plumbing", flow_id="residential", reason="abandoned", created_at=created,
        phone="+15125550177", name="Marie Curie", zip_code="78702", service="Water heater repair",
    ).to_document())
    context = await browser.new_context(viewport=viewport, bypass_csp=True)  # axe is injected as a script
    page = await context.new_page()
    problems: list[dict] = []  # type: ignore[type-arg]

    await page.goto(live_server.url + "/console/bookings")
    await page.get_by_label("Your work email").fill(OWNER)
    problems += await serious_violations(page)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.get_by_text("is on its way").wait_for()
    [mail] = await mailbox.wait_for(1)
    [link] = re.findall(r"(http://\S+/console/sign-in/\S+)", mail.text)
    await page.goto(live_server.url + "/" + link.split("://", 1)[1].partition("/")[2])
    problems += await serious_violations(page)
    await page.get_by_role("button", name="Sign in").click()

    await page.get_by_role("heading", name="Bookings").wait_for()
    problems += await serious_violations(page)
    await page.get_by_role("link", name="Grace Hopper").click()
    await page.get_by_role("heading", name="Needs attention").wait_for()
    problems += await serious_violations(page)
    await page.get_by_label("Note").fill("Booked by phone for Tuesday")
    await page.get_by_role("button", name="Mark handled").click()
    await page.get_by_text("Marked handled.").wait_for()
    assert (await live_server.database.bookings.find_one({"_id": "WB-NEEDS01"}))["status"] == "confirmed"
    await page.screenshot(path=str(tmp_path / "booking.png"), full_page=True)
    await no_sideways_scroll(page)
    await page.goto(live_server.url + "/console/bookings?q=ada")
    await no_sideways_scroll(page)
    assert await page.get_by_role("link", name="Ada Lovelace").is_visible()
    await page.set_viewport_size(viewport)

    await page.get_by_role("link", name="Leads").click()
    await page.get_by_role("heading", name="Leads").wait_for()
    problems += await serious_violations(page)
    await page.get_by_label("Status of Marie Curie", exact=True).select_option("contacted")
    await page.get_by_role("button", name="Save the status of Marie Curie").click()
    await page.get_by_text("No new leads").wait_for()
    assert (await live_server.database.leads.find_one({}))["status"] == "contacted"
    await page.goto(live_server.url + "/console/leads?status=")
    await no_sideways_scroll(page)
    await page.set_viewport_size(viewport)

    await page.get_by_role("link", name="Funnel").click()
    await page.get_by_role("heading", name="Funnel").wait_for()
    problems += await serious_violations(page)
    await no_sideways_scroll(page)
    await page.set_viewport_size(viewport)

    await page.get_by_role("link", name="Webhooks").click()
    problems += await serious_violations(page)
    await page.get_by_label("URL").fill("https://127.0.0.1/hooks")
    await page.get_by_role("button", name="Add endpoint").click()
    await page.get_by_text("private or local network").wait_for()  # refused: private addresses are not allowed here
    problems += await serious_violations(page)
    await no_sideways_scroll(page)
    await page.set_viewport_size(viewport)
    await live_server.database.webhook_endpoints.insert_one(Endpoint(
        id="ep_crm", organization_id="demo-plumbing", url="https://hooks.example.com/catch/123456/abcdef", events=("booking.created",),
        secret=new_secret(), created_at=created, created_by=OWNER, description="Zapier",
    ).to_document())
    await page.goto(live_server.url + "/console/webhooks/ep_crm")
    await page.get_by_role("heading", name="Deliveries").wait_for()
    problems += await serious_violations(page)
    await no_sideways_scroll(page)
    await page.set_viewport_size(viewport)

    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_text("You're signed out.").wait_for()
    await page.goto(live_server.url + "/console/bookings")
    await page.get_by_label("Your work email").wait_for()
    await context.close()
    assert problems == []
