"""Turning a complete booking session into one booking, however often confirm is sent.

Capacity is taken by the vendor first (atomic, idempotent per session); the booking
record is then inserted under a unique session id, so a double click or a retried
request finds the booking that already exists instead of making a second one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.db import Database
from app.flows.models import Flow
from app.sessions.model import BookingSession
from app.vendors.base import BookingRequest, SlotUnavailable, VendorStrategy

# No 0/O or 1/I: references are read out over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# 32^6 references: a collision is rare, several in a row mean something else is wrong.
_REFERENCE_ATTEMPTS = 5


@dataclass(frozen=True)
class Confirmed:
    booking: dict[str, Any]


@dataclass(frozen=True)
class SlotTaken:
    message: str = "Sorry, that arrival window was just taken. Please choose another time."


@dataclass(frozen=True)
class Incomplete:
    step_id: str
    message: str


ConfirmOutcome = Confirmed | SlotTaken | Incomplete


def new_reference() -> str:
    return "WB-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


def missing_part(flow: Flow, session: BookingSession) -> Incomplete | None:
    """The first step whose part of the booking is still missing, if any."""
    draft = session.booking
    needed = {
        "ZipCode": (draft.zip_code, "Please enter your ZIP code."),
        "ServiceSelection": (draft.service, "Please choose a service."),
        "AdditionalDetails": (draft.details, "Please tell us a little more about the job."),
        "Timeslot": (draft.timeslot, "Please choose an arrival window."),
        "Customer": (draft.customer, "Please enter your contact details."),
    }
    for step_id in flow.step_ids:
        value, message = needed.get(step_id, (True, ""))
        if value is None:
            return Incomplete(step_id, message)
    return None


def mark_booked(session: BookingSession, booking: dict[str, Any]) -> None:
    session.status = "booked"
    session.booking_reference = booking["_id"]


async def booking_for_session(db: Database, session_id: str) -> dict[str, Any] | None:
    return await db.bookings.find_one({"session_id": session_id})


async def confirm_booking(
    db: Database, flow: Flow, session: BookingSession, vendor: VendorStrategy, now: datetime
) -> ConfirmOutcome:
    existing = await booking_for_session(db, session.id)
    if existing is not None:
        return Confirmed(existing)
    incomplete = missing_part(flow, session)
    if incomplete is not None:
        return incomplete
    draft = session.booking
    assert draft.timeslot is not None and draft.service is not None and draft.customer is not None
    request = BookingRequest(
        session_id=session.id,
        day=date.fromisoformat(draft.timeslot["date"]),
        window_id=draft.timeslot["window_id"],
        service=draft.service,
        customer=draft.customer,
        details=draft.details or {},
        zip_code=draft.zip_code,
    )
    try:
        vendor_booking = await vendor.create_booking(request)
    except SlotUnavailable:
        return SlotTaken()
    record = {
        "session_id": session.id,
        "organization_id": session.organization_id,
        "flow_id": session.flow_id,
        "status": "confirmed",
        "date": draft.timeslot["date"],
        "window": draft.timeslot,
        "service": draft.service,
        "answers": draft.answers,
        "details": draft.details or {},
        "customer": draft.customer,
        "zip_code": draft.zip_code,
        "vendor": {"type": vendor_booking.vendor_type, "external_id": vendor_booking.external_id},
        "attribution": session.attribution,
        "created_at": now,
    }
    for _ in range(_REFERENCE_ATTEMPTS):
        record["_id"] = new_reference()
        try:
            await db.bookings.insert_one(record)
            return Confirmed(record)
        except DuplicateKeyError:
            # Either a concurrent confirm of this session won, or (rarely) the reference exists.
            existing = await booking_for_session(db, session.id)
            if existing is not None:
                return Confirmed(existing)
    raise RuntimeError(f"no free booking reference after {_REFERENCE_ATTEMPTS} attempts")
