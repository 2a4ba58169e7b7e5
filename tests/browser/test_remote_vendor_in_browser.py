"""A visitor books in Chromium while the company's ServiceTitan does not answer: told the
truth (received, pending), and the booking reaches ServiceTitan exactly once after it
recovers, pushed by the web process's outbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from playwright.async_api import Page

from app.demo.fakes.servicetitan import FakeServiceTitan
from app.flows.models import OrganizationConfig
from tests.browser.conftest import open_host_page
from tests.browser.flow import book_with_mouse
from tests.conftest import LiveServer, demo_booking_into

pytestmark = pytest.mark.browser

WAIT_FOR_EVENT = """() => new Promise((resolve) =>
  window.addEventListener('wrkbelt:booking-confirmed', (event) => resolve(event.detail), { once: true }))"""


@pytest.fixture
def servicetitan() -> Iterator[FakeServiceTitan]:
    fake = FakeServiceTitan().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def quick_outbox(monkeypatch: pytest.MonkeyPatch) -> None:
    # The web process under test looks for due pushes twice a second instead of every 2 s.
    monkeypatch.setenv("OUTBOX_POLL_SECONDS", "0.5")


@pytest.fixture
def organization(servicetitan: FakeServiceTitan) -> OrganizationConfig:
    return demo_booking_into("servicetitan", servicetitan.url, timeout_seconds=1.0)


async def test_a_booking_made_while_the_vendor_times_out_arrives_once_it_recovers(
    page: Page, live_server: LiveServer, servicetitan: FakeServiceTitan
) -> None:
    servicetitan.fail_next("/bookings", method="POST", hang_seconds=2.5)  # the first push gets no answer
    await open_host_page(page, live_server.url + "/")
    event = asyncio.ensure_future(page.evaluate(WAIT_FOR_EVENT))
    await page.get_by_role("button", name="Book now").click()
    await book_with_mouse(page, confirmation="We've got your request")
    await page.get_by_text("We're confirming the time with our schedule").wait_for()
    detail = await event
    assert detail["status"] == "pending" and servicetitan.bookings == []

    deadline = time.monotonic() + 30
    booking = await live_server.database.bookings.find_one({})
    while booking["status"] != "confirmed" and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        booking = await live_server.database.bookings.find_one({})
    assert booking["status"] == "confirmed", booking
    assert [b["externalId"] for b in servicetitan.bookings] == [detail["reference"]]
    assert booking["vendor"]["external_id"] == str(servicetitan.bookings[0]["id"])
    await asyncio.sleep(1.5)  # a few more drainer rounds: still exactly one
    assert len(servicetitan.bookings) == 1 and len(servicetitan.requests_to("/bookings", "POST")) == 2
