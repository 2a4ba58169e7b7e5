"""Finding stored bookings (the mapping itself is `app.domain.booking`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.db import Database
from app.domain.booking import Booking, PendingChange


async def booking_by_reference(db: Database, reference: str) -> Booking | None:
    doc = await db.bookings.find_one({"_id": reference})
    return None if doc is None else Booking.from_document(doc)


async def booking_for_session(db: Database, session_id: str) -> Booking | None:
    doc = await db.bookings.find_one({"session_id": session_id})
    return None if doc is None else Booking.from_document(doc)


async def booking_for_session_or_none(db: Database, session_id: str) -> Booking | None:
    """The session's booking; None also when the database cannot say (it went away)."""
    try:
        return await booking_for_session(db, session_id)
    except Exception:
        return None


async def bookings_of_customer(db: Database, organization_id: str, phone: str | None, email: str | None, limit: int = 20) -> list[Booking]:
    """The organization's latest bookings made with this phone number (E.164) or email
    (lower case): where a returning customer had visits before."""
    either: list[dict[str, Any]] = [{"customer.phone": phone}] if phone else []
    either += [{"customer.email": {"$in": sorted({email, email.lower()})}}] if email else []
    if not either:
        return []
    cursor = db.bookings.find({"organization_id": organization_id, "$or": either}).sort("created_at", -1).limit(limit)
    return [Booking.from_document(doc) async for doc in cursor]


def _at_version(version: int) -> dict[str, Any]:
    # Bookings stored before versions were kept count as version 1.
    return {"version": version} if version > 1 else {"$or": [{"version": 1}, {"version": {"$exists": False}}]}


class BookingChanged(Exception):
    """The booking changed since it was read (another tab, the office): read it again."""


async def save_new_version(db: Database, booking: Booking, completing: str | None = None) -> None:
    """Store `booking` (version n+1) if the stored one is still version n, with no change on
    its way to the vendor (or only the one this version is `completing`)."""
    pending = {"pending_change.id": completing} if completing else {"pending_change": None}
    result = await db.bookings.replace_one(
        {"_id": booking.reference, **_at_version(booking.version - 1), **pending}, booking.to_document()
    )
    if result.matched_count != 1:
        raise BookingChanged(booking.reference)


async def hold_pending_change(db: Database, booking: Booking, change: PendingChange) -> Booking:
    """Record `change` as on its way to the vendor, if the booking is still as read and has none."""
    result = await db.bookings.update_one(
        {"_id": booking.reference, **_at_version(booking.version), "pending_change": None},
        {"$set": {"pending_change": change.to_document()}},
    )
    if result.matched_count != 1:
        raise BookingChanged(booking.reference)
    return replace(booking, pending_change=change)


async def drop_pending_change(db: Database, reference: str, change_id: str) -> None:
    """The change `change_id` ended without being made: the booking is free to change again."""
    await db.bookings.update_one({"_id": reference, "pending_change.id": change_id}, {"$set": {"pending_change": None}})
