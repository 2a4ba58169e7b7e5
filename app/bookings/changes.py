"""The visitor changing their booking from the link in their email: a new time, or cancel.

Both go to the vendor first (the built-in calendar takes the new place before it gives
the old one back; a vendor without changes sends the visitor to the phone), then the
booking is stored as its next version (a compare-and-swap: two tabs cannot both change
it), then the visitor is emailed (with the calendar file's SEQUENCE raised, or
METHOD:CANCEL). A company decides how late changes are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from app.bookings.confirm import ALTERNATIVES, describe_window, nearest_windows
from app.bookings.notices import Notifier
from app.bookings.repository import save_new_version
from app.db import Database
from app.domain.booking import Booking
from app.flows.models import Organization
from app.vendors.base import ArrivalWindow, BookingRequest, SlotUnavailable, VendorStrategy

MAX_REASON_LENGTH = 500
# The calendar pages a year ahead; no vendor books further.
FURTHEST_NEW_DAY = timedelta(days=400)


class ChangeRefused(Exception):
    """This change can't be made here; the message says why and what to do instead."""


def change_deadline(booking: Booking, organization: Organization) -> datetime:
    return booking.window.starts_at(organization.zone) - timedelta(hours=organization.booking_changes.until_hours_before)


Change = Literal["reschedule", "cancel"]


def why_not_changeable(
    booking: Booking, organization: Organization, vendor: VendorStrategy, now: datetime, change: Change | None = None
) -> str | None:
    """Why the visitor can't make `change` (or any change) to this booking online (None: they can)."""
    call = f" Please call us at {organization.contact.phone}." if organization.contact.phone else " Please call us."
    if booking.is_cancelled:
        return "This booking is cancelled."
    if now >= booking.window.starts_at(organization.zone):
        return "This visit has started or is over." + call
    if booking.status != "confirmed":
        return "Our office is still confirming this booking and will contact you." + call
    allowed = {"reschedule": vendor.can_reschedule, "cancel": vendor.can_cancel}
    if not organization.booking_changes.allowed or not (allowed[change] if change else any(allowed.values())):
        return "This booking can be changed by phone." + call
    if now >= change_deadline(booking, organization):
        hours = organization.booking_changes.until_hours_before
        return f"Changes can be made online until {hours} hours before the visit." + call
    return None


@dataclass(frozen=True)
class Rescheduled:
    booking: Booking


@dataclass(frozen=True)
class WindowTaken:
    message: str
    alternatives: tuple[ArrivalWindow, ...]


async def reschedule(
    db: Database, organization: Organization, vendor: VendorStrategy, booking: Booking, day: date, window_id: str,
    now: datetime, notifier: Notifier | None,
) -> Rescheduled | WindowTaken:
    refusal = why_not_changeable(booking, organization, vendor, now, "reschedule")
    if refusal:
        raise ChangeRefused(refusal)
    today = now.astimezone(organization.zone).date()
    if not today <= day <= today + FURTHEST_NEW_DAY:
        raise ChangeRefused("Choose a day in the calendar.")
    windows = await vendor.get_date_timeslots(day, session_id=booking.session_id, fresh=True)
    window = next((w for w in windows if w.window_id == window_id), None)
    if window is None:
        raise ChangeRefused("Choose one of the arrival windows shown.")
    if (day, window_id) == (booking.day, booking.window.window_id):
        return Rescheduled(booking)
    if not window.available:
        return await _taken(vendor, booking, day, window_id, windows)
    try:
        await vendor.reschedule_booking(booking, window.chosen())
    except SlotUnavailable:
        return await _taken(vendor, booking, day, window_id, None)
    changed = booking.rescheduled(window.chosen(), now)
    await save_new_version(db, changed)
    if notifier is not None:
        await notifier.tell_visitor("rescheduled", organization, changed, now)
    return Rescheduled(changed)


async def _taken(
    vendor: VendorStrategy, booking: Booking, day: date, window_id: str, same_day: list[ArrivalWindow] | None
) -> WindowTaken:
    wanted = replace(booking, window=replace(booking.window, day=day, window_id=window_id))
    alternatives = await nearest_windows(vendor, BookingRequest(wanted), same_day)
    alternatives = tuple(w for w in alternatives if (w.day, w.window_id) != (booking.day, booking.window.window_id))[:ALTERNATIVES]
    listed = "; ".join(describe_window(w) for w in alternatives)
    message = "Sorry, that arrival window was just taken."
    return WindowTaken(f"{message} The nearest free times: {listed}." if listed else message, alternatives)


async def cancel(
    db: Database, organization: Organization, vendor: VendorStrategy, booking: Booking, reason: str, now: datetime,
    notifier: Notifier | None,
) -> Booking:
    refusal = why_not_changeable(booking, organization, vendor, now, "cancel")
    if refusal:
        raise ChangeRefused(refusal)
    await vendor.cancel_booking(booking)
    changed = booking.cancelled(now, reason.strip()[:MAX_REASON_LENGTH] or None)
    await save_new_version(db, changed)
    if notifier is not None:
        await notifier.tell_visitor("cancelled", organization, changed, now)
    return changed
