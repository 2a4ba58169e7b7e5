"""A visitor moves and cancels a ServiceTitan booking from their email (job mode): the job's
appointment is rescheduled and the job cancelled through ServiceTitan's API (the fake
answers as its documentation says); in CRM mode the page gives the phone number."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.db import Database
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.demo.mailbox import Mailbox
from app.flows.models import OrganizationConfig
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


async def test_servicetitan_down_leaves_the_booking_unchanged(fake: FakeServiceTitan, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    fake.fail_next("/cancel", method="PUT", status=503, times=5)
    response = await client.post(path + "/cancel", form={})
    assert response.status_code == 503 and "unchanged" in (await response.get_data(as_text=True))
    assert (await db.bookings.find_one({}))["status"] == "confirmed" and fake.jobs[0]["jobStatus"] == "Scheduled"


@pytest.mark.parametrize("booking_mode", ["crm"], indirect=True)
async def test_crm_bookings_are_changed_by_phone(fake: FakeServiceTitan, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    status, page = await text(client, path)
    assert status == 200 and "Change the time" not in page and "Cancel the visit" not in page
    assert "call us at" in page and "(512) 555-0100" in page
    assert (await client.post(path + "/cancel", form={})).status_code == 409
