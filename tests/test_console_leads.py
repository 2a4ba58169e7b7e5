"""Leads and the company's notifications: a visitor outside the area, or one who gave their
details and left, becomes a lead in the console (once, however many web processes look),
the people who asked are emailed (new booking, new lead, needs attention), and the office
moves a lead through its statuses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from quart import Quart

from app.bookings.abandoned import AbandonedLeads
from app.db import Database
from app.demo.mailbox import Mailbox
from app.flows.models import OrganizationConfig
from app.web.services import services_of
from tests.conftest import demo_config
from tests.test_console import OWNER, page, sign_in
from tests.visitor import Visitor

DISPATCH = "dispatch@demo-plumbing.example"
QUIET = "quiet@demo-plumbing.example"


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "mail_poll_seconds": 0.2, "outbox_poll_seconds": 300, "abandoned_poll_seconds": 3600}


@pytest.fixture
def organization() -> OrganizationConfig:
    data = demo_config().model_dump()
    data["people"] = [
        {"email": OWNER, "role": "owner"},  # hears of everything
        {"email": DISPATCH, "role": "staff", "notify": ["lead"]},
        {"email": QUIET, "role": "staff"},  # staff hear of nothing unless they ask
    ]
    return OrganizationConfig.model_validate(data)


def abandoned_finder(app: Quart) -> AbandonedLeads:
    """A second web process's finder on the same database (the app's own runs too)."""
    services = services_of(app)
    return AbandonedLeads(services.db, services.clock, timedelta(minutes=5), on_lead=services.notifier.lead_made)


async def subjects_to(mailbox: Mailbox, address: str, count: int) -> list[str]:
    return sorted(m.subject for m in await mailbox.wait_for(count) if m.to == address)


async def test_a_lead_from_outside_the_area_reaches_the_console_and_who_asked(visitor: Visitor, client, mailbox: Mailbox, db: Database) -> None:  # type: ignore[no-untyped-def]
    await visitor.start()
    await visitor.submit("ZipCode", zip_code="10001")
    page_ = await visitor.submit("ZipCode", intent="lead", lead_phone="(512) 555-0177", lead_email="")
    assert page_.contains("Thanks")
    await visitor.submit("ZipCode", intent="lead", lead_phone="(512) 555-0177", lead_email="")  # twice: one lead, one email
    messages = await mailbox.wait_for(2)
    assert sorted(m.to for m in messages) == [DISPATCH, OWNER]
    assert all(m.subject.startswith("New lead: ") and "/console/leads" in m.text for m in messages)

    await sign_in(client, mailbox, OWNER, count=3)
    status, shown = await page(client, "/console/leads")
    assert status == 200 and 'href="tel:+15125550177"' in shown and "Out of area" in shown and "10001" in shown
    lead_id = (await db.leads.find_one({}))["_id"]
    response = await client.post(f"/console/leads/{lead_id}/status", form={"status": "contacted", "back": "https://evil.example"})
    assert response.status_code == 303 and response.headers["Location"] == "/console/leads"
    stored = await db.leads.find_one({})
    assert stored["status"] == "contacted" and stored["status_changed_by"] == OWNER
    assert "Contacted by owner@" in (await page(client, "/console/leads?status=contacted"))[1]
    assert "No new leads" in (await page(client, "/console/leads"))[1]
    assert (await client.post(f"/console/leads/{lead_id}/status", form={"status": "$set"})).status_code == 422
    assert (await client.post("/console/leads/someone-elses/status", form={"status": "dropped"})).status_code == 404


async def test_a_visitor_who_gave_details_and_left_becomes_a_lead_once(app: Quart, visitor: Visitor, client, mailbox: Mailbox, db: Database, today: date, time_travel) -> None:  # type: ignore[no-untyped-def]
    await visitor.walk_to("Summary", today)  # gave their details at Customer, then left
    one, two = abandoned_finder(app), abandoned_finder(app)
    assert await one.drain_once() == 0  # not quiet for 5 minutes yet
    time_travel.shift(timedelta(minutes=6))
    handled = await one.drain_once() + await two.drain_once() + await services_of(app).running.abandoned.drain_once()  # type: ignore[union-attr]
    assert handled >= 1
    [lead] = await db.leads.find({}).to_list()
    assert lead["reason"] == "abandoned" and lead["name"] == "Ada Lovelace" and lead["service"] == "Leak repair"
    assert lead["last_step"] == "Summary" and lead["phone"].startswith("+1")
    assert await subjects_to(mailbox, OWNER, 2) == ["New lead: Ada Lovelace (abandoned)"]
    assert await one.drain_once() == 0 and await two.drain_once() == 0  # nothing left, nothing doubled
    assert len(await mailbox.wait_for(3, seconds=1)) == 2


async def test_the_people_who_asked_hear_of_bookings_and_bookings_that_need_attention(visitor: Visitor, mailbox: Mailbox, db: Database, today: date) -> None:
    await visitor.walk_to("Summary", today)
    assert (await visitor.submit("Summary")).step == "Confirmation"
    messages = await mailbox.wait_for(2)
    owner = [m for m in messages if m.to == OWNER]
    assert [m.subject.split(":")[0] for m in owner] == ["New booking"]
    assert "Leak repair" in owner[0].subject and "/console/bookings/WB-" in owner[0].text
    assert not [m for m in messages if m.to in {DISPATCH, QUIET}]


async def test_every_visitor_who_left_becomes_a_lead_in_turn(app: Quart, client, mailbox: Mailbox, db: Database, today: date, time_travel) -> None:  # type: ignore[no-untyped-def]
    """The finder walks on past each session (its place is kept): three who left, three leads."""
    from tests.visitor import quart_sender

    for _ in range(3):
        await Visitor(quart_sender(client)).walk_to("Summary", today)
        time_travel.shift(timedelta(seconds=30))
    time_travel.shift(timedelta(minutes=6))
    finder = abandoned_finder(app)
    assert await finder.drain_once() == 3
    assert await db.leads.count_documents({"reason": "abandoned"}) == 3
    await Visitor(quart_sender(client)).walk_to("Summary", today)  # a fourth, later
    time_travel.shift(timedelta(minutes=6))
    assert await finder.drain_once() == 1 and await finder.drain_once() == 0
    assert await db.leads.count_documents({}) == 4
