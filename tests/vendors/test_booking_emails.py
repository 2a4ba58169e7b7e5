"""A booking into a remote vendor that answers late: the visitor hears "we've got your
request" at once and "you're booked" when the vendor confirms (or that the office will
call when it refuses)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import time_machine
from icalendar import Calendar
from quart import Quart

from app.bookings.outbox import OutboxDrainer
from app.db import Database
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.demo.mailbox import Mailbox, StoredMail
from app.flows.models import OrganizationConfig
from app.web.services import services_of
from tests.conftest import demo_booking_into
from tests.visitor import Visitor


@pytest.fixture
def fake() -> Iterator[FakeServiceTitan]:
    started = FakeServiceTitan().start()
    yield started
    started.stop()


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    # The tests drain the vendor outbox themselves; mail goes at once.
    return {"outbox_poll_seconds": 300, "smtp_url": mailbox.url, "mail_poll_seconds": 0.2}


@pytest.fixture
def organization(fake: FakeServiceTitan) -> OrganizationConfig:
    return demo_booking_into("servicetitan", fake.url, timeout_seconds=1.0)



async def drain_later(app: Quart, time_travel: time_machine.Coordinates, seconds: float) -> int:
    """`seconds` later (the whole process's clock moves, the mail drainer's too), the vendor
    outbox as the web process's drainer runs it, telling the visitor."""
    time_travel.shift(timedelta(seconds=seconds))
    services = services_of(app)
    drainer = OutboxDrainer(services.db, services.outbox._vendor_lookup, services.clock, on_settled=services.notifier.booking_settled)
    return await drainer.drain_once()


def event_of(mail: StoredMail) -> tuple[str, int]:
    [data] = [a[2] for a in mail.attachments() if a[1] == "text/calendar"]
    [event] = Calendar.from_ical(data).walk("VEVENT")
    return str(event["STATUS"]), int(event["SEQUENCE"])


async def test_pending_then_confirmed_sends_two_emails_in_order(app: Quart, fake: FakeServiceTitan, visitor: Visitor, mailbox: Mailbox, db: Database, today: date, time_travel: time_machine.Coordinates) -> None:
    await visitor.walk_to("Summary", today)
    fake.fail_next("/bookings", method="POST", hang_seconds=2.5)  # no answer, nothing made
    page = await visitor.submit("Summary")
    assert page.heading == "We've got your request"
    [received] = await mailbox.wait_for(1)
    assert received.subject.startswith("We've got your request: ")
    assert "You'll get another email when it is confirmed." in received.text
    assert event_of(received) == ("TENTATIVE", 1)

    assert await drain_later(app, time_travel, 60) == 1
    assert (await db.bookings.find_one({}))["status"] == "confirmed"
    confirmed, _ = await mailbox.wait_for(2)  # newest first
    assert confirmed.subject.startswith("You're booked: ") and event_of(confirmed) == ("CONFIRMED", 1)
    assert await drain_later(app, time_travel, 3600) == 0
    await asyncio.sleep(0.5)
    assert len(mailbox.messages()) == 2  # nothing twice


async def test_a_booking_the_vendor_refuses_tells_the_visitor_the_office_will_call(app: Quart, fake: FakeServiceTitan, visitor: Visitor, mailbox: Mailbox, db: Database, today: date, time_travel: time_machine.Coordinates) -> None:
    await visitor.walk_to("Summary", today)
    fake.fail_next("/bookings", method="POST", hang_seconds=2.5)
    await visitor.submit("Summary")
    assert len(await mailbox.wait_for(1)) == 1
    fake.fail_next("/bookings", method="POST", status=400, body={"title": "Job type 999 was not found."})
    assert await drain_later(app, time_travel, 60) == 1
    assert (await db.bookings.find_one({}))["status"] == "needs_attention"
    attention, _ = await mailbox.wait_for(2)
    assert attention.subject.startswith("About your request WB-") and "(512) 555-0100" in attention.text
    assert not [a for a in attention.attachments() if a[1] == "text/calendar"]
