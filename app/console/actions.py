"""What the office does with a booking that needs attention: try the vendor again, mark it
handled (sorted out by phone), or cancel it (the visitor is emailed).

Each is recorded on the booking's history with who did it. Only a booking that needs
attention can be acted on here: a confirmed booking is changed in the company's own
system (or by the visitor, from their email).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from app.bookings import outbox
from app.bookings.notices import Notifier
from app.bookings.repository import BookingChanged, save_new_version
from app.db import Database
from app.domain.booking import Booking, BookingChange, BookingStatus
from app.flows.models import Organization
from app.vendors.base import VendorStrategy

MAX_REASON = 500


class NotNow(Exception):
    """This action does not apply to the booking as it is now; the message says why."""


def _needs_attention(booking: Booking) -> None:
    if booking.status != "needs_attention":
        raise NotNow("Only a booking that needs attention can be changed here.")


async def _record(db: Database, booking: Booking, change: BookingChange, status: BookingStatus | None = None) -> None:
    """Add `change` to the history (and set `status`) if the booking is still as read (its
    `updated_at` moves with every change: two clicks at once record one). The whole booking
    is written, as every version is (a date set alone by `$set` is text in the embedded server)."""
    changed = replace(booking, changes=(*booking.changes, change), updated_at=change.at, status=status or booking.status)
    result = await db.bookings.replace_one(
        {"_id": booking.reference, "status": booking.status, "version": booking.version, "updated_at": booking.updated_at},
        changed.to_document(),
    )
    if result.matched_count != 1:
        raise BookingChanged(booking.reference)


async def try_again(db: Database, booking: Booking, person: str, now: datetime) -> None:
    """Push the booking to the vendor again (at once; the drainer must be woken)."""
    _needs_attention(booking)
    await _record(db, booking, BookingChange(now, "retried", "office", person=person))
    await outbox.enqueue(db, "booking", booking.reference, booking.organization_id, now)


async def mark_handled(db: Database, booking: Booking, person: str, note: str, now: datetime) -> None:
    """The office sorted it out with the customer (booked by hand, say): it no longer needs
    attention. No email: the office has spoken to the customer."""
    _needs_attention(booking)
    change = BookingChange(now, "handled", "office", reason=note.strip()[:MAX_REASON] or None, person=person)
    await _record(db, booking, change, status="confirmed")


async def cancel_for_office(
    db: Database, organization: Organization, booking: Booking, person: str, reason: str, now: datetime,
    notifier: Notifier | None, vendor: VendorStrategy | None = None,
) -> Booking:
    """Cancel a booking that needs attention; the visitor is emailed the cancellation. If
    the vendor has it after all (it made the job, then refused a later step), it is
    cancelled there first (a vendor that can't cancel online leaves that to the office)."""
    _needs_attention(booking)
    if vendor is not None and booking.vendor.external_id and vendor.can_cancel:
        await vendor.cancel_booking(booking)
    cancelled = booking.cancelled(now, reason.strip()[:MAX_REASON] or None, by="office", person=person)
    await save_new_version(db, replace(cancelled, pending_change=None))
    await db.vendor_outbox.update_one(
        {"_id": outbox.entry_id("booking", booking.reference), "state": {"$ne": "done"}},
        {"$set": {"state": "failed", "last_error": f"cancelled by {person}"}},
    )
    if notifier is not None:
        await notifier.tell_visitor("cancelled", organization, cancelled, now)
    return cancelled
