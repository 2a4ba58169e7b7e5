"""A visitor moves and cancels a ServiceTitan booking from their email (job mode): the job's
appointment is rescheduled and the job cancelled through ServiceTitan's API (the fake
answers as its documentation says); in CRM mode the page gives the phone number."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from quart import Quart

from app.db import Database
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.demo.mailbox import Mailbox
from app.flows.models import OrganizationConfig
from app.web.services import services_of
from tests.conftest import demo_booking_into
from tests.test_booking_changes import another_window, booked, calendar_event, mails, text
from tests.visitor import Visitor


@pytest.fixture
def fake() -> Iterator[FakeServiceTitan]:
    started = FakeServiceTitan().start()
    yield started
    started.stop()


@pytest.fixture(params=["job"])
def booking_mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def organization(fake: FakeServiceTitan, booking_mode: str) -> OrganizationConfig:
    return demo_booking_into("servicetitan", fake.url, booking_mode=booking_mode, cancel_reason_id=71, timeout_seconds=2.0)


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "mail_poll_seconds": 0.2, "outbox_poll_seconds": 300}



async def test_rescheduling_moves_the_appointment_and_cancelling_cancels_the_job(fake: FakeServiceTitan, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    assert booking["status"] == "confirmed" and len(fake.jobs) == 1
    [job] = fake.jobs
    status, page = await text(client, path)
    assert status == 200 and "Change the time" in page and "Cancel the visit" in page

    day, window = await another_window(client, path, booking, not_before=today + timedelta(days=2))
    response = await client.post(path + "/reschedule", form={"date": day, "window": window})
    assert response.status_code == 303, await response.get_data(as_text=True)
    [appointment] = [a for a in fake.appointments if a["jobId"] == job["id"]]
    starts = datetime.fromisoformat(appointment["arrivalWindowStart"].replace("Z", "+00:00")).astimezone(ZoneInfo("America/Chicago"))
    assert (starts.date().isoformat(), f"{starts:%H%M}") == (day, window.split("-")[0])
    moved = await db.bookings.find_one({})
    assert (moved["date"], moved["window"]["window_id"], moved["version"]) == (day, window, 2)

    new_path = response.headers["Location"].split("?")[0]
    response = await client.post(new_path + "/cancel", form={"reason": "Sorted it out"})
    assert response.status_code == 303, await response.get_data(as_text=True)
    assert job["jobStatus"] == "Canceled" and job["cancelReasonId"] == 71 and booking["_id"] in job["cancelMemo"]
    assert (await db.bookings.find_one({}))["status"] == "cancelled"
    _, rescheduled, cancelled = await mails(mailbox, 3)
    assert rescheduled.subject.startswith("New time: ") and cancelled.subject.startswith("Cancelled: ")
    assert calendar_event(cancelled)[1]["STATUS"] == "CANCELLED"


async def test_a_window_full_at_servicetitan_keeps_the_old_time(fake: FakeServiceTitan, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    day, window = await another_window(client, path, booking)
    fake.fail_next("/reschedule", method="PATCH", status=409, body={"title": "The requested time is no longer available"})
    response = await client.post(path + "/reschedule", form={"date": day, "window": window})
    assert response.status_code == 409 and "just taken" in (await response.get_data(as_text=True))
    assert (await db.bookings.find_one({}))["version"] == 1


async def drain_later(app: Quart, time_travel: time_machine.Coordinates, seconds: float) -> int:
    """`seconds` later, the vendor outbox as the web process's own drainer runs it."""
    time_travel.shift(timedelta(seconds=seconds))
    return await services_of(app).outbox.drain_once()


async def test_a_change_servicetitan_is_too_slow_for_is_made_in_the_background(app: Quart, fake: FakeServiceTitan, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date, time_travel: time_machine.Coordinates) -> None:  # type: ignore[no-untyped-def]
    """ServiceTitan down when the visitor moves the time: the change is held and queued, the
    page says so (and offers no other change meanwhile), and it is made once ServiceTitan
    answers again; the visitor is emailed the new time."""
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    [job] = fake.jobs
    day, window = await another_window(client, path, booking, not_before=today + timedelta(days=2))
    fake.fail_next("/reschedule", method="PATCH", status=503, times=1)
    response = await client.post(path + "/reschedule", form={"date": day, "window": window})
    assert response.status_code == 303, await response.get_data(as_text=True)
    status, page = await text(client, response.headers["Location"])
    assert status == 200 and "slow to answer" in page and "we'll email you" in page
    assert "Change the time" not in page and "Cancel the visit" not in page
    held = await db.bookings.find_one({})
    assert held["version"] == 1 and held["pending_change"]["window"]["window_id"] == window
    assert (await client.post(path + "/cancel", form={})).status_code == 409  # one change at a time

    assert await drain_later(app, time_travel, 1) == 0  # not due yet: backing off
    fake.fail_next("/reschedule", method="PATCH", status=503, times=1)
    assert await drain_later(app, time_travel, 10) == 1  # still down: tried, backing off again
    assert (await db.bookings.find_one({}))["version"] == 1
    assert await drain_later(app, time_travel, 60) == 1
    [appointment] = [a for a in fake.appointments if a["jobId"] == job["id"]]
    starts = datetime.fromisoformat(appointment["arrivalWindowStart"].replace("Z", "+00:00")).astimezone(ZoneInfo("America/Chicago"))
    assert (starts.date().isoformat(), f"{starts:%H%M}") == (day, window.split("-")[0])
    moved = await db.bookings.find_one({})
    assert (moved["date"], moved["version"], moved["pending_change"]) == (day, 2, None)
    _, rescheduled = await mails(mailbox, 2)
    assert rescheduled.subject.startswith("New time: ") and calendar_event(rescheduled)[1]["SEQUENCE"] == "2"
    assert await drain_later(app, time_travel, 3600) == 0  # made once


async def test_a_queued_cancellation_is_made_once_servicetitan_answers(app: Quart, fake: FakeServiceTitan, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date, time_travel: time_machine.Coordinates) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    fake.fail_next("/cancel", method="PUT", status=503, times=1)
    assert (await client.post(path + "/cancel", form={"reason": "Found someone"})).status_code == 303
    assert (await db.bookings.find_one({}))["pending_change"]["reason"] == "Found someone"
    assert fake.jobs[0]["jobStatus"] == "Scheduled"
    assert await drain_later(app, time_travel, 30) == 1
    assert fake.jobs[0]["jobStatus"] == "Canceled"
    cancelled = await db.bookings.find_one({})
    assert cancelled["status"] == "cancelled" and cancelled["changes"][-1]["reason"] == "Found someone"
    _, mail = await mails(mailbox, 2)
    assert mail.subject.startswith("Cancelled: ") and calendar_event(mail)[1]["STATUS"] == "CANCELLED"


async def test_a_queued_move_whose_window_fills_up_keeps_the_old_time_and_says_so(app: Quart, fake: FakeServiceTitan, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date, time_travel: time_machine.Coordinates) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    day, window = await another_window(client, path, booking)
    fake.fail_next("/reschedule", method="PATCH", status=503, times=1)
    assert (await client.post(path + "/reschedule", form={"date": day, "window": window})).status_code == 303
    fake.fail_next("/reschedule", method="PATCH", status=409, body={"title": "The requested time is no longer available"})
    assert await drain_later(app, time_travel, 30) == 1
    kept = await db.bookings.find_one({})
    assert (kept["date"], kept["version"], kept["pending_change"]) == (booking["date"], 1, None)
    _, unchanged = await mails(mailbox, 2)
    assert unchanged.subject.startswith("Your visit is unchanged") and "that time was taken meanwhile" in unchanged.text
    assert not [a for a in unchanged.attachments() if a[1] == "text/calendar"]
    status, page = await text(client, path)  # the same link: the booking's version did not change
    assert status == 200 and "Change the time" in page and "slow to answer" not in page


@pytest.mark.parametrize("booking_mode", ["crm"], indirect=True)
async def test_crm_bookings_are_changed_by_phone(fake: FakeServiceTitan, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    status, page = await text(client, path)
    assert status == 200 and "Change the time" not in page and "Cancel the visit" not in page
    assert "call us at" in page and "(512) 555-0100" in page
    assert (await client.post(path + "/cancel", form={})).status_code == 409
