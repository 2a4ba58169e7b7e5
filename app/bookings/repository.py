"""Finding stored bookings (the mapping itself is `app.domain.booking`)."""

from __future__ import annotations

from typing import Any

from app.db import Database
from app.domain.booking import Booking


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


class BookingChanged(Exception):
    """The booking changed since it was read (another tab, the office): read it again."""


async def save_new_version(db: Database, booking: Booking) -> None:
    """Store `booking` (version n+1) if the stored one is still version n."""
    previous = booking.version - 1
    # Bookings stored before versions were kept count as version 1.
    version: dict[str, Any] = {"version": previous} if previous > 1 else {"$or": [{"version": 1}, {"version": {"$exists": False}}]}
    result = await db.bookings.replace_one({"_id": booking.reference, **version}, booking.to_document())
    if result.matched_count != 1:
        raise BookingChanged(booking.reference)
