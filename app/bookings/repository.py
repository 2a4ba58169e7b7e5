"""Finding stored bookings (the mapping itself is `app.domain.booking`)."""

from __future__ import annotations

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
