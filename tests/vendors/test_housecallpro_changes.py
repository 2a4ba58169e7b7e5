"""A visitor moves and cancels a Housecall Pro booking from their email: the job's schedule
moves ("Update job schedule"); cancelling deletes the job's schedule (its time is free) and
leaves a note on the job for the office, as Housecall Pro has no documented cancel."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.db import Database
from app.demo.fakes.housecallpro import FakeHousecallPro
from app.demo.mailbox import Mailbox
from app.flows.models import OrganizationConfig
from tests.conftest import demo_booking_into
from tests.test_booking_changes import another_window, booked, mails, text
from tests.visitor import Visitor


@pytest.fixture
def fake() -> Iterator[FakeHousecallPro]:
    started = FakeHousecallPro().start()
    yield started
    started.stop()


@pytest.fixture
def organization(fake: FakeHousecallPro) -> OrganizationConfig:
    return demo_booking_into("housecallpro", fake.url, timeout_seconds=2.0)


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "mail_poll_seconds": 0.2, "outbox_poll_seconds": 300}



async def test_a_housecall_pro_job_moves_and_cancelling_frees_its_time(fake: FakeHousecallPro, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    assert booking["status"] == "confirmed"
    status, page = await text(client, path)
    assert status == 200 and "Change the time" in page and "Cancel the visit" in page

    day, window = await another_window(client, path, booking, not_before=today + timedelta(days=2))
    response = await client.post(path + "/reschedule", form={"date": day, "window": window})
    assert response.status_code == 303, await response.get_data(as_text=True)
    [job] = [j for j in fake.jobs if j["id"] == booking["vendor"]["external_id"]]
    starts = datetime.fromisoformat(job["schedule"]["scheduled_start"]).astimezone(ZoneInfo("America/Chicago"))
    assert (starts.date().isoformat(), f"{starts:%H%M}") == (day, window.split("-")[0])
    response = await client.post(response.headers["Location"].split("?")[0] + "/cancel", form={})
    assert response.status_code == 303, await response.get_data(as_text=True)
    assert job["work_status"] == "unscheduled" and job["schedule"]["scheduled_start"] is None
    assert booking["_id"] in job["notes_added"][0]["content"]
    assert (await db.bookings.find_one({}))["status"] == "cancelled"
    _, moved, cancelled = await mails(mailbox, 3)
    assert moved.subject.startswith("New time: ") and cancelled.subject.startswith("Cancelled: ")
