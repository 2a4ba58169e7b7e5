"""The funnel, through the JSON API (secret key) and the company's console."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from quart import Quart

from app.db import Database
from app.demo.mailbox import Mailbox
from app.flows.models import OrganizationConfig
from app.secret_keys import create_secret_key
from app.web.services import services_of
from tests.conftest import demo_config
from tests.test_console import OWNER, sign_in
from tests.visitor import Visitor, quart_sender

SECRET = "sk_test_funnel_key"
BEARER = {"Authorization": f"Bearer {SECRET}"}

pytestmark = pytest.mark.dates


@pytest.fixture
def organization() -> OrganizationConfig:
    data = demo_config().model_dump()
    data["people"] = [{"email": OWNER, "role": "staff"}]  # signs in; hears of nothing
    return OrganizationConfig.model_validate(data)


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "mail_poll_seconds": 0.2}


@pytest.fixture
async def three_visitors(app: Quart, client, db: Database, today: date, instant: datetime, time_travel: time_machine.Coordinates) -> None:  # type: ignore[no-untyped-def]
    booked = Visitor(quart_sender(client))
    await booked.walk_to("Summary", today)
    await booked.submit("Summary")
    out_of_area = Visitor(quart_sender(client))
    await out_of_area.start()
    await out_of_area.submit("ZipCode", zip_code="10001")
    gave_up = Visitor(quart_sender(client))
    await gave_up.walk_to("Customer", today)
    await gave_up.submit("Customer", first_name="Ada")
    await services_of(app).events.drain()
    await create_secret_key(db, "demo-plumbing", instant, SECRET)
    # An hour later: the visitor who gave up has been quiet long enough to count as gone.
    time_travel.shift(timedelta(hours=1))


async def test_funnel_counts_each_step_and_why_visitors_left(client, three_visitors: None) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/funnel?flow=residential", headers=BEARER)
    body = await response.get_json()
    assert response.status_code == 200, body
    assert (body["sessions"], body["booked"], body["still_open"]) == (3, 1, 0)
    assert body["conversion"] == round(1 / 3, 4)
    assert [(s["step"], s["reached"], s["dropped"]) for s in body["steps"]] == [
        ("ZipCode", 3, 1), ("ServiceSelection", 2, 0), ("AdditionalDetails", 2, 0),
        ("Timeslot", 2, 0), ("Customer", 2, 1), ("Summary", 1, 0),
    ]
    assert {r["reason"]: r["sessions"] for r in body["reasons"]} == {"out_of_area": 1, "validation_error": 1}
    assert body["end"] >= body["start"]


async def test_funnel_api_refuses_without_the_secret_key(client, three_visitors: None) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/api/funnel")).status_code == 401
    response = await client.get("/api/funnel", headers={"Authorization": "Bearer pk_test_demo"})
    assert response.status_code == 401 and (await response.get_json())["error"] == "unknown_secret_key"
    assert (await client.get("/api/funnel?flow=nope", headers=BEARER)).status_code == 404
    response = await client.get("/api/funnel?start=2026-02-01&end=2026-01-01", headers=BEARER)
    assert response.status_code == 422 and "start date is after" in (await response.get_json())["message"]
    response = await client.get("/api/funnel?start=yesterday", headers=BEARER)
    assert response.status_code == 422


async def test_the_console_draws_the_funnel(client, mailbox: Mailbox, three_visitors: None) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/dashboard")).headers["Location"] == "/console/funnel"  # the old page's address
    await sign_in(client, mailbox)
    response = await client.get("/console/funnel?flow=residential")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200 and "visitors reaching each step" in page
    assert "Outside the service area" in page and "Stopped at a form error" in page
    assert "Bookings by source" in page and "direct" in page
    assert (await client.get("/console/funnel?flow=nope")).status_code == 404
    response = await client.get("/console/funnel?end=9999-12-31")
    assert response.status_code == 422 and "out of range" in await response.get_data(as_text=True)


async def test_the_funnel_never_says_both_still_open_and_nobody_left(app: Quart, client, db: Database, today: date, instant: datetime) -> None:  # type: ignore[no-untyped-def]
    """Two visitors mid-booking and one who booked: two still booking, none left, and every
    number adds up (booked + left + still booking = visitors)."""
    for _ in range(2):
        await Visitor(quart_sender(client)).walk_to("Timeslot", today)
    booked = Visitor(quart_sender(client))
    await booked.walk_to("Summary", today)
    await booked.submit("Summary")
    await services_of(app).events.drain()
    await create_secret_key(db, "demo-plumbing", instant, SECRET)
    body = await (await client.get("/api/funnel", headers=BEARER)).get_json()
    assert (body["sessions"], body["booked"], body["still_open"], body["left"]) == (3, 1, 2, 0)
    assert sum(s["dropped"] for s in body["steps"]) == 0 and body["reasons"] == []
    assert [(s["step"], s["in_progress"]) for s in body["steps"] if s["in_progress"]] == [("Timeslot", 2)]
    assert body["sources"] == [{"source": "direct", "campaign": "", "bookings": 1, "with_gclid": 0}]


async def test_a_range_is_of_the_companys_days_not_utcs(client, three_visitors: None, today: date) -> None:  # type: ignore[no-untyped-def]
    """The three visitors came on the company's `today`, whatever the date in UTC was."""

    async def sessions(start: date, end: date) -> int:
        response = await client.get(f"/api/funnel?start={start}&end={end}", headers=BEARER)
        assert response.status_code == 200
        return (await response.get_json())["sessions"]

    day = timedelta(days=1)
    assert await sessions(today, today) == 3
    assert await sessions(today - day, today - day) == 0
    assert await sessions(today + day, today + day) == 0
    body = await (await client.get("/api/funnel", headers=BEARER)).get_json()  # default: the last 30 days
    assert date.fromisoformat(body["end"]) - date.fromisoformat(body["start"]) == timedelta(days=29)
    assert date.fromisoformat(body["start"]) <= today <= date.fromisoformat(body["end"]) and body["sessions"] == 3
