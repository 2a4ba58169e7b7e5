"""The visitor changing their booking from the link in their email: a new time, or cancel.

Both go to the vendor first (the built-in calendar takes the new place before it gives
the old one back; a vendor without changes sends the visitor to the phone), then the
booking is stored as its next version (a compare-and-swap: two tabs cannot both change
it), then the visitor is emailed (with the calendar file's SEQUENCE raised, or
METHOD:CANCEL). A company decides how late changes are allowed.

A vendor that is down or too slow to answer does not turn the visitor away: the change
is held on the booking (`pending_change`, no other change meanwhile) and queued in the
vendor outbox, whose drainer carries it out with backoff until it is made, refused, or
too late (the visit's change deadline). The visitor is emailed how it ended.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from app.bookings import outbox
from app.bookings.confirm import ALTERNATIVES, describe_window, nearest_windows
from app.bookings.notices import FailedChange, Notifier
from app.bookings.repository import (
    BookingChanged,
    booking_by_reference,
    drop_pending_change,
    hold_pending_change,
    save_new_version,
)
from app.db import Database
from app.domain.booking import Booking, ChosenWindow, PendingChange
from app.flows.models import Organization
from app.flows.repository import organization_by_slug
from app.i18n import N_, gettext, tidy
from app.metrics import VENDOR_PUSHES
from app.vendors.base import (
    ArrivalWindow,
    BookingRequest,
    SlotUnavailable,
    VendorError,
    VendorStrategy,
    VendorUnavailable,
)

log = logging.getLogger(__name__)

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
    phone = organization.contact.phone
    call = " " + (gettext("Please call us at %(phone)s.") % {"phone": phone} if phone else gettext("Please call us."))
    if booking.is_cancelled:
        return gettext("This booking is cancelled.")
    if booking.pending_change is not None:
        return gettext("Your last change is on its way to our schedule: we'll email you as soon as it's made.")
    if now >= booking.window.starts_at(organization.zone):
        return gettext("This visit has started or is over.") + call
    if booking.status != "confirmed":
        return gettext("Our office is still confirming this booking and will contact you.") + call
    allowed = {"reschedule": vendor.can_reschedule, "cancel": vendor.can_cancel}
    if not organization.booking_changes.allowed or not (allowed[change] if change else any(allowed.values())):
        return gettext("This booking can be changed by phone.") + call
    if now >= change_deadline(booking, organization):
        hours = organization.booking_changes.until_hours_before
        return gettext("Changes can be made online until %(hours)s hours before the visit.") % {"hours": hours} + call
    return None


@dataclass(frozen=True)
class Rescheduled:
    booking: Booking


@dataclass(frozen=True)
class ChangeQueued:
    """The vendor could not be reached: the change will be made in the background."""

    booking: Booking


@dataclass(frozen=True)
class WindowTaken:
    message: str
    alternatives: tuple[ArrivalWindow, ...]


async def reschedule(
    db: Database, organization: Organization, vendor: VendorStrategy, booking: Booking, day: date, window_id: str,
    now: datetime, notifier: Notifier | None,
) -> Rescheduled | WindowTaken | ChangeQueued:
    refusal = why_not_changeable(booking, organization, vendor, now, "reschedule")
    if refusal:
        raise ChangeRefused(refusal)
    today = now.astimezone(organization.zone).date()
    if not today <= day <= today + FURTHEST_NEW_DAY:
        raise ChangeRefused(gettext("Choose a day in the calendar."))
    windows = await vendor.get_date_timeslots(day, session_id=booking.session_id, fresh=True)
    window = next((w for w in windows if w.window_id == window_id), None)
    if window is None:
        raise ChangeRefused(gettext("Choose one of the arrival windows shown."))
    if (day, window_id) == (booking.day, booking.window.window_id):
        return Rescheduled(booking)
    if not window.available:
        return await _taken(vendor, booking, day, window_id, windows)
    try:
        await vendor.reschedule_booking(booking, window.chosen())
    except SlotUnavailable:
        return await _taken(vendor, booking, day, window_id, None)
    except VendorUnavailable as exc:
        return await _queue(db, booking, PendingChange(_change_id(), "reschedule", now, window=window.chosen()), now, exc)
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
    if not listed:
        return WindowTaken(gettext("Sorry, that arrival window was just taken."), alternatives)
    return WindowTaken(tidy(gettext("Sorry, that arrival window was just taken. The nearest free times: %(times)s.") % {"times": listed}), alternatives)


async def cancel(
    db: Database, organization: Organization, vendor: VendorStrategy, booking: Booking, reason: str, now: datetime,
    notifier: Notifier | None,
) -> Booking | ChangeQueued:
    refusal = why_not_changeable(booking, organization, vendor, now, "cancel")
    if refusal:
        raise ChangeRefused(refusal)
    said = reason.strip()[:MAX_REASON_LENGTH] or None
    try:
        await vendor.cancel_booking(booking)
    except VendorUnavailable as exc:
        return await _queue(db, booking, PendingChange(_change_id(), "cancel", now, reason=said), now, exc)
    changed = booking.cancelled(now, said)
    await save_new_version(db, changed)
    if notifier is not None:
        await notifier.tell_visitor("cancelled", organization, changed, now)
    return changed


# -- a change the vendor was too slow for ------------------------------------------------


def _change_id() -> str:
    return secrets.token_hex(6)


async def _queue(db: Database, booking: Booking, change: PendingChange, now: datetime, why: VendorUnavailable) -> ChangeQueued:
    """Hold `change` on the booking and queue it for the vendor outbox to carry out."""
    held = await hold_pending_change(db, booking, change)
    await outbox.enqueue(
        db, "change", booking.reference, booking.organization_id, now, key=change.id, payload={"change_id": change.id},
        first_try_in=outbox.retry_delay(1, why.retry_after),  # it has just failed: back off first
    )
    log.warning("booking change queued: the vendor did not answer", extra={
        "booking": booking.reference, "change": change.kind, "vendor": why.vendor, "problem": why.message,
    })
    return ChangeQueued(held)


class QueuedChanges:
    """Carries out the changes held on bookings, for the vendor outbox's drainer."""

    def __init__(self, db: Database, notifier: Notifier | None) -> None:
        self._db = db
        self._notifier = notifier

    async def carry_out(self, entry: dict[str, Any], vendor: VendorStrategy, now: datetime) -> None:
        change_id = str((entry.get("payload") or {}).get("change_id", ""))
        booking = await booking_by_reference(self._db, entry["target_id"])
        organization = None if booking is None else await organization_by_slug(self._db, booking.organization_id)
        change = None if booking is None else booking.pending_change
        if booking is None or organization is None or change is None or change.id != change_id:
            await outbox.close_entry(self._db, entry, False, "the booking or its change no longer exists")
            return
        try:
            if change.kind == "reschedule" and change.window is not None:
                await vendor.reschedule_booking(booking, change.window)
                changed = booking.rescheduled(change.window, now)
            else:
                await vendor.cancel_booking(booking)
                changed = booking.cancelled(now, change.reason)
        except VendorUnavailable as exc:
            deadline = booking.window.starts_at(organization.zone).timestamp()
            if await outbox.retry_later(self._db, entry, now, exc, give_up_at=deadline):
                VENDOR_PUSHES.labels(vendor.vendor_type, "pending").inc()
                return
            await self._failed(entry, booking, organization, change, now, N_("we couldn't reach our schedule in time"))
            return
        except SlotUnavailable:
            await self._failed(entry, booking, organization, change, now, N_("that time was taken meanwhile"))
            return
        except VendorError as exc:
            log.error("booking change refused by the vendor", extra={"booking": booking.reference, "problem": str(exc)})
            await self._failed(entry, booking, organization, change, now, N_("our schedule didn't accept it"))
            return
        try:
            await save_new_version(self._db, changed, completing=change.id)
        except BookingChanged:
            # Only the office changes a booking with a change on its way: it needs a person.
            log.error("a booking changed while its change was on its way", extra={"booking": booking.reference})
            await outbox.close_entry(self._db, entry, False, "the vendor made the change, but the booking had changed meanwhile")
            return
        VENDOR_PUSHES.labels(vendor.vendor_type, "confirmed").inc()
        await outbox.close_entry(self._db, entry, True, None)
        if self._notifier is not None:
            await self._notifier.tell_visitor("rescheduled" if change.kind == "reschedule" else "cancelled", organization, changed, now)

    async def _failed(
        self, entry: dict[str, Any], booking: Booking, organization: Organization, change: PendingChange, now: datetime,
        why: str,
    ) -> None:
        VENDOR_PUSHES.labels(booking.vendor.type or "unknown", "rejected").inc()
        await drop_pending_change(self._db, booking.reference, change.id)
        await outbox.close_entry(self._db, entry, False, why)
        if self._notifier is not None:
            failed = FailedChange(change.id, change.kind, change.window, why)
            await self._notifier.tell_visitor("change_failed", organization, replace(booking, pending_change=None), now, failed)


def requested_window(booking: Booking) -> ChosenWindow | None:
    """The window a pending reschedule asks for (the booking page shows it)."""
    change = booking.pending_change
    return change.window if change is not None and change.kind == "reschedule" else None
