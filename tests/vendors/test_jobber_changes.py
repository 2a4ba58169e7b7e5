"""A visitor moves and cancels a Jobber booking from their email: in job mode the job's visit
moves (`visitEditSchedule`) and cancelling closes the job with its visits removed
(`jobClose`); in request mode the request's assessment moves (`assessmentEdit`) and the
office cancels requests. The fake runs our GraphQL documents against Jobber's types."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.db import Database
from app.demo.fakes.jobber import FakeJobber, parse
from app.demo.mailbox import Mailbox
from app.flows.models import OrganizationConfig
from tests.conftest import demo_booking_into
from tests.test_booking_changes import another_window, booked, calendar_event, mails, text
from tests.visitor import Visitor

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def fake() -> Iterator[FakeJobber]:
    started = FakeJobber().start()
    yield started
    started.stop()


@pytest.fixture(params=["job"])
def booking_mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def organization(fake: FakeJobber, booking_mode: str) -> OrganizationConfig:
    return demo_booking_into("jobber", fake.url, booking_mode=booking_mode, timeout_seconds=2.0)


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "mail_poll_seconds": 0.2, "outbox_poll_seconds": 300}


def starts(item: dict) -> tuple[str, str]:  # type: ignore[type-arg]
    local = parse(item["startAt"]).astimezone(CHICAGO)
    return local.date().isoformat(), f"{local:%H%M}"


async def test_a_jobber_job_visit_moves_and_cancelling_closes_the_job(fake: FakeJobber, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    assert booking["status"] == "confirmed"
    [job] = fake.jobs
    [visit] = [fake.item(i) for i in job["visit_ids"]]
    status, page = await text(client, path)
    assert status == 200 and "Change the time" in page and "Cancel the visit" in page

    day, window = await another_window(client, path, booking, not_before=today + timedelta(days=2))
    response = await client.post(path + "/reschedule", form={"date": day, "window": window})
    assert response.status_code == 303, await response.get_data(as_text=True)
    assert starts(visit) == (day, window.split("-")[0])
    assert f"{parse(visit['endAt']).astimezone(CHICAGO):%H%M}" == window.split("-")[1]

    response = await client.post(response.headers["Location"].split("?")[0] + "/cancel", form={"reason": "Fixed it"})
    assert response.status_code == 303, await response.get_data(as_text=True)
    assert job["jobStatus"] == "archived" and job["closed_with"] == "DESTROY_ALL"
    assert fake.item(visit["id"]) is None  # the crew's time is free again
    assert (await db.bookings.find_one({}))["status"] == "cancelled"
    _, moved, cancelled = await mails(mailbox, 3)
    assert moved.subject.startswith("New time: ") and calendar_event(cancelled)[1]["STATUS"] == "CANCELLED"


@pytest.mark.parametrize("booking_mode", ["request"], indirect=True)
async def test_a_jobber_request_assessment_moves_and_the_office_cancels_requests(fake: FakeJobber, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    [request] = fake.requests
    assessment = fake.item(request["assessment_id"])
    status, page = await text(client, path)
    assert status == 200 and "Change the time" in page and "Cancel the visit" not in page
    assert "To cancel, call us at" in page

    day, window = await another_window(client, path, booking, not_before=today + timedelta(days=2))
    response = await client.post(path + "/reschedule", form={"date": day, "window": window})
    assert response.status_code == 303, await response.get_data(as_text=True)
    assert starts(assessment) == (day, window.split("-")[0])
    assert (await db.bookings.find_one({}))["version"] == 2
    assert (await client.post(response.headers["Location"].split("?")[0] + "/cancel", form={})).status_code == 409


async def test_a_jobber_user_error_leaves_the_booking_unchanged(fake: FakeJobber, visitor: Visitor, mailbox: Mailbox, client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    """A visit Jobber no longer has (completed by the office) is a userError: a clear page, no change."""
    path = await booked(visitor, mailbox, today)
    booking = await db.bookings.find_one({})
    [job] = fake.jobs
    fake.item(job["visit_ids"][0])["isComplete"] = True
    day, window = await another_window(client, path, booking)
    response = await client.post(path + "/reschedule", form={"date": day, "window": window})
    assert response.status_code == 409 and "didn&#39;t accept this change" in (await response.get_data(as_text=True))
    assert (await db.bookings.find_one({}))["version"] == 1
    assert starts(fake.item(job["visit_ids"][0])) == (booking["date"], booking["window"]["window_id"].split("-")[0])
