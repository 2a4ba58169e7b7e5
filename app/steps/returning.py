"""Returning customers at the Customer step: a phone number or email the company already has
offers "Welcome back" and the addresses on file, masked, to choose from.

Where they come from: the company's earlier bookings here, and its field-service system's
customer search (ServiceTitan's by phone, Housecall Pro's and Jobber's by email or phone).
The vendor's come first: booking against them books the existing customer and address there
instead of a duplicate. Only addresses in the ZIP code the visitor gave are offered (their
availability was for it). The whole addresses stay in the session, server side; the visitor
picks one by its id ("p1"…) and is shown only its masked street, wherever the booking is
shown to them. How often anyone may look is bounded per session and per address
(app/web/steps.py): no one learns anything about a stranger by typing their number but that
it is known and the street names of its addresses.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from app.bookings.repository import bookings_of_customer
from app.db import Database
from app.domain.place import KnownPlace
from app.vendors.base import VendorError, VendorStrategy

log = logging.getLogger(__name__)

MAX_PLACES = 5
# The step's state keeps the places offered when the visitor submits, to show them again.
STATE_KEY = "on_file"


async def places_on_file(
    db: Database, organization_id: str, vendor: VendorStrategy, phone: str | None, email: str | None, zip_code: str | None,
) -> list[KnownPlace]:
    """Up to five addresses on file for this phone or email, numbered p1…; none for a stranger."""
    if not phone and not email:
        return []
    found: list[KnownPlace] = []
    try:
        found += await vendor.customer_places(phone, email)
    except VendorError as exc:  # the visitor types their address as anyone would
        log.warning("the vendor's customer search failed", extra={"problem": str(exc)[:300]})
    for booking in await bookings_of_customer(db, organization_id, phone, email):
        c = booking.customer
        found.append(KnownPlace("", street=c.street, unit=c.unit, city=c.city, state=c.state, zip_code=c.zip_code, source="bookings"))
    places: list[KnownPlace] = []
    for place in found:
        whole = place.street and place.city and place.state and place.zip_code
        if not whole or (zip_code and place.zip_code[:5] != zip_code) or any(p.same_place(place) for p in places):
            continue
        places.append(place)
    return [replace(p, id=f"p{i}") for i, p in enumerate(places[:MAX_PLACES], 1)]


async def remember(db: Database, session_id: str, phone: str | None, email: str | None, places: list[KnownPlace], expires_at: datetime) -> None:
    """Keep what a look-up found for the session's submit — beside the session, not in it: a
    look-up while the visitor presses Continue must not make their submit lose a race."""
    await db.returning_lookups.replace_one(
        {"_id": session_id},
        {"_id": session_id, "phone": phone, "email": email, "places": [p.to_document() for p in places], "expires_at": expires_at},
        upsert=True,
    )


async def looked_up(db: Database, session_id: str) -> dict[str, Any]:
    return await db.returning_lookups.find_one({"_id": session_id}) or {}


def places_of(kept: dict[str, Any]) -> list[KnownPlace]:
    return [KnownPlace.from_document(p) for p in kept.get("places") or [] if isinstance(p, dict)]


def chosen(kept: dict[str, Any], place_id: str, phone: str | None, email: str | None) -> KnownPlace | None:
    """The place the visitor chose, if it was offered for the phone or email they submit."""
    if not kept or not place_id:
        return None
    looked_up_email = str(kept.get("email") or "").lower()
    if not ((phone and kept.get("phone") == phone) or (email and looked_up_email == email.lower())):
        return None  # looked up with one number, submitted with another
    return next((p for p in places_of(kept) if p.id == place_id), None)
