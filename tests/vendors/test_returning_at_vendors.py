"""Returning customers at each vendor: its customer search (ServiceTitan's by phone, Housecall
Pro's and Jobber's by email or phone) offers the customer's addresses, masked; a booking at
one of them books the existing customer and address there — no duplicate customer."""

from __future__ import annotations

from datetime import date

import pytest
from quart import Quart

from app.db import Database
from app.demo.fakes.housecallpro import FakeHousecallPro
from app.demo.fakes.jobber import FakeJobber
from app.demo.fakes.server import FakeVendor
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.flows.models import OrganizationConfig
from tests.vendors.conftest import booking_into_fake, drain_later
from tests.visitor import CUSTOMER, Visitor


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"outbox_poll_seconds": 300}


@pytest.fixture
def organization(vendor_type: str, fake: FakeVendor) -> OrganizationConfig:
    return booking_into_fake(vendor_type, fake)


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


async def test_a_returning_customer_is_booked_against_their_record_at_the_vendor(
    app: Quart, vendor_type: str, fake: FakeVendor, visitor: Visitor, db: Database, today: date,
) -> None:
    await visitor.walk_to("Summary", today)
    assert (await visitor.submit("Summary")).step == "Confirmation"
    await drain_later(app, 5)
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
    await drain_later(app, 5)
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
