"""Returning customers at each vendor: its customer search (ServiceTitan's by phone, Housecall
Pro's and Jobber's by email or phone) offers the customer's addresses, masked; a booking at
one of them books the existing customer and address there — no duplicate customer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from quart import Quart

from app.bookings.outbox import OutboxDrainer
from app.db import Database
from app.demo.fakes.housecallpro import FakeHousecallPro
from app.demo.fakes.jobber import FakeJobber
from app.demo.fakes.server import FakeVendor
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.flows.models import OrganizationConfig
from app.web.services import services_of
from tests.conftest import demo_booking_into
from tests.visitor import CUSTOMER, Visitor

FAKES: dict[str, type[FakeVendor]] = {"servicetitan": FakeServiceTitan, "housecallpro": FakeHousecallPro, "jobber": FakeJobber}


@pytest.fixture(params=list(FAKES))
def vendor_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake(vendor_type: str) -> Iterator[FakeVendor]:
    started = FAKES[vendor_type]().start()
    yield started
    started.stop()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"outbox_poll_seconds": 300}


@pytest.fixture
def organization(vendor_type: str, fake: FakeVendor) -> OrganizationConfig:
    job_mode = {"booking_mode": "job"} if vendor_type == "servicetitan" else {}
    return demo_booking_into(vendor_type, fake.url, timeout_seconds=2.0, horizon_days=366, **job_mode)


def customers_at(fake: FakeVendor) -> int:
    if isinstance(fake, FakeJobber):
        return len(fake.clients)
    assert isinstance(fake, FakeServiceTitan | FakeHousecallPro)
    return len(fake.customers)


def latest_booking_at(fake: FakeVendor) -> dict:
    if isinstance(fake, FakeServiceTitan):
        return fake.jobs[-1]
    if isinstance(fake, FakeHousecallPro):
        return fake.jobs[-1]
    assert isinstance(fake, FakeJobber)
    return fake.requests[-1]


async def drain(app: Quart) -> None:
    services = services_of(app)
    moment = services.clock() + timedelta(seconds=5)
    await OutboxDrainer(services.db, services.outbox._vendor_lookup, lambda: moment).drain_once()


async def test_a_returning_customer_is_booked_against_their_record_at_the_vendor(
    app: Quart, vendor_type: str, fake: FakeVendor, visitor: Visitor, db: Database, today: date,
) -> None:
    await visitor.walk_to("Summary", today)
    assert (await visitor.submit("Summary")).step == "Confirmation"
    await drain(app)
    assert customers_at(fake) == 1
    first = latest_booking_at(fake)

    again = Visitor(visitor._send)
    await again.walk_to("Customer", today)
    # ServiceTitan searches by phone; the others by email too.
    offered = await again._send("POST", "/session/returning", {"phone": "512 555 0142", "email": ""}, again._headers())
    assert "Welcome back!" in offered.text and "•••• Congress Ave" in offered.text and "100 Congress" not in offered.text
    session = await db.sessions.find_one({"token_hash": {"$exists": True}}, sort=[("updated_at", -1)])
    assert session is not None
    looked_up = await db.returning_lookups.find_one({"_id": session["_id"]})
    assert looked_up is not None
    kept = looked_up["places"]
    assert kept[0]["source"] == "vendor" and len(kept) == 1  # our own booking of it is the same place: offered once

    page = await again.submit("Customer", **(CUSTOMER | {"street": "", "city": "", "state": "", "zip_code": "", "first_name": "Ada", "known_place": "p1"}))
    assert page.step == "Summary", page.errors
    page = await again.submit("Summary")
    assert page.step == "Confirmation"
    await drain(app)
    booking = await db.bookings.find_one({"session_id": session["_id"]})
    assert booking is not None and booking["status"] == "confirmed", booking and booking.get("vendor")
    assert customers_at(fake) == 1  # no duplicate
    second = latest_booking_at(fake)
    assert second is not first
    if isinstance(fake, FakeServiceTitan):
        assert (second["customerId"], second["locationId"]) == (first["customerId"], first["locationId"]) and len(fake.locations) == 1
    elif isinstance(fake, FakeHousecallPro):
        assert (second["customer_id"], second["address_id"]) == (first["customer_id"], first["address_id"])
    else:
        assert (second["clientId"], second["input"]["propertyId"]) == (first["clientId"], first["input"]["propertyId"])
