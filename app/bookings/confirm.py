"""Turning a complete booking session into one booking, however often confirm is sent.

The built-in calendar takes the place first (atomic, idempotent per session) and the
booking is then inserted, confirmed; if the insert fails, the place is given back. A remote vendor is re-checked for the window, the
booking is stored as pending, and the outbox pushes it (at once, and again later if the
vendor does not answer); the visitor is told which of the two it is. Either way the
record is unique per session, so a double click or a retried request finds the booking
that already exists instead of making a second one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from app import i18n
from app.bookings import outbox
from app.bookings.repository import booking_by_reference, booking_for_session, booking_for_session_or_none
from app.db import Database
from app.domain.booking import Booking, VendorRecord
from app.flows.models import Flow
from app.i18n import N_
from app.sessions.model import BookingSession
from app.vendors.base import ArrivalWindow, BookingRequest, PhotoFiles, SlotUnavailable, VendorError, VendorStrategy

log = logging.getLogger(__name__)
# No 0/O or 1/I: references are read out over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# 32^6 references: a collision is rare, several in a row mean something else is wrong.
_REFERENCE_ATTEMPTS = 5


@dataclass(frozen=True)
class Confirmed:
    booking: Booking


TAKEN_MESSAGE = N_("Sorry, that arrival window was just taken. Please choose another time.")
# How long a visitor waits for the vendor at confirm; after that the booking is pending.
INLINE_PUSH_SECONDS = 12.0
# How far the search for other free windows looks, and how many it offers.
ALTERNATIVE_DAYS = 7
ALTERNATIVES = 3


@dataclass(frozen=True)
class SlotTaken:
    message: str = TAKEN_MESSAGE  # translated where it is shown (gettext)
    alternatives: tuple[ArrivalWindow, ...] = ()


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
        "ZipCode": (draft.zip_code, N_("Please enter your ZIP code.")),
        "ServiceSelection": (draft.service, N_("Please choose a service.")),
        "AdditionalDetails": (draft.details, N_("Please tell us a little more about the job.")),
        "Timeslot": (draft.timeslot, N_("Please choose an arrival window.")),
        "Customer": (draft.customer, N_("Please enter your contact details.")),
    }
    for step_id in flow.step_ids:
        value, message = needed.get(step_id, (True, ""))
        if value is None:
            return Incomplete(step_id, message)
    return None


def mark_booked(session: BookingSession, reference: str) -> None:
    session.status = "booked"
    session.booking_reference = reference


async def nearest_windows(
    vendor: VendorStrategy, request: BookingRequest, same_day: list[ArrivalWindow] | None = None
) -> tuple[ArrivalWindow, ...]:
    """Free windows closest to the one just taken: the same day first, then the days after."""
    chosen = request.booking.window.start.hour * 60 + request.booking.window.start.minute
    found: list[ArrivalWindow] = []
    for offset in range(ALTERNATIVE_DAYS):
        day = request.day + timedelta(days=offset)
        try:
            windows = same_day if offset == 0 and same_day is not None else await vendor.get_date_timeslots(
                day, session_id=request.booking.session_id, fresh=offset == 0
            )
        except VendorError:
            break
        found += [w for w in windows if w.available and (w.day, w.window_id) != (request.day, request.window_id)]
        if len(found) >= ALTERNATIVES:
            break
    found.sort(key=lambda w: ((w.day - request.day).days, abs(w.start.hour * 60 + w.start.minute - chosen)))
    return tuple(found[:ALTERNATIVES])


def describe_window(window: ArrivalWindow) -> str:
    """'Tuesday, June 4, 11 am – 2 pm', in the visitor's language (app/i18n.py)."""
    return f"{i18n.long_date(window.day)}, {i18n.window_text(window)}"


async def slot_taken(vendor: VendorStrategy, request: BookingRequest, same_day: list[ArrivalWindow] | None = None) -> SlotTaken:
    alternatives = await nearest_windows(vendor, request, same_day)
    if not alternatives:
        return SlotTaken()
    listed = "; ".join(describe_window(w) for w in alternatives)
    message = i18n.gettext("Sorry, that arrival window was just taken. The nearest free times: %(times)s.")
    return SlotTaken(i18n.tidy(message % {"times": listed}), alternatives)


async def _insert(db: Database, booking: Booking) -> tuple[Booking, bool]:
    """Insert under a new reference (True); or the booking that won when another confirm
    of the session got there first (False)."""
    for _ in range(_REFERENCE_ATTEMPTS):
        candidate = booking.with_reference(new_reference())
        try:
            await db.bookings.insert_one(candidate.to_document())
            return candidate, True
        except DuplicateKeyError:
            # Either a concurrent confirm of this session won, or (rarely) the reference exists.
            existing = await booking_for_session(db, booking.session_id)
            if existing is not None:
                return existing, False
    raise RuntimeError(f"no free booking reference after {_REFERENCE_ATTEMPTS} attempts")


async def confirm_booking(
    db: Database, flow: Flow, session: BookingSession, vendor: VendorStrategy, now: datetime, photos: PhotoFiles | None = None,
) -> ConfirmOutcome:
    """`photos` gives the vendor links to (and the files of) the visitor's photos of the problem."""
    existing = await booking_for_session(db, session.id)
    if existing is not None and existing.status != "slot_taken":
        return Confirmed(existing)
    incomplete = missing_part(flow, session)
    if incomplete is not None:
        return incomplete
    if vendor.books_through_outbox:
        return await _confirm_through_outbox(db, session, vendor, now, existing, photos)
    request = BookingRequest(session.new_booking("confirmed", VendorRecord(vendor.vendor_type), now))
    try:
        made = await vendor.create_booking(request)
    except SlotUnavailable:
        return await slot_taken(vendor, request)
    booking = replace(request.booking, vendor=VendorRecord(made.vendor_type, made.external_id))
    try:
        return Confirmed((await _insert(db, booking))[0])
    except BaseException:
        # No booking was recorded: the place goes back, or it would stay taken by no one.
        # (A concurrent confirm of this session that did record one is found by _insert.)
        if await booking_for_session_or_none(db, session.id) is None:
            try:
                await asyncio.shield(vendor.undo_booking(request))
            except Exception:
                log.error("the place of session %s on %s %s stays taken until its confirm is retried",
                          session.id, request.day, request.window_id)
        raise


async def _confirm_through_outbox(
    db: Database, session: BookingSession, vendor: VendorStrategy, now: datetime, taken: Booking | None, photos: PhotoFiles | None,
) -> ConfirmOutcome:
    """Re-check the window, store the booking as pending, then push it through the outbox."""
    request = BookingRequest(session.new_booking("pending", VendorRecord(vendor.vendor_type), now))
    try:
        windows = await vendor.get_date_timeslots(request.day, session_id=session.id, fresh=True)
    except VendorError:
        windows = None  # the vendor can't say now; the push will find out
    if windows is not None and not any(w.window_id == request.window_id and w.available for w in windows):
        return await slot_taken(vendor, request, windows)
    if taken is None:
        booking, inserted = await _insert(db, request.booking)
        if not inserted:
            return Confirmed(booking)  # a concurrent confirm stored it and pushes it
    else:
        # The vendor turned the last window down: the same booking (and reference) tries the new one.
        booking = request.booking.with_reference(taken.reference)
        replaced = await db.bookings.replace_one({"_id": taken.reference, "status": "slot_taken"}, booking.to_document())
        if replaced.matched_count == 0:
            return Confirmed(await booking_for_session(db, session.id) or taken)
    await outbox.enqueue(db, "booking", booking.reference, session.organization_id, now)
    entry = await outbox.claim(db, now, outbox.entry_id("booking", booking.reference))
    if entry is None:
        return Confirmed(booking)  # another process holds it: pending, and honest about it
    try:
        result = await asyncio.wait_for(outbox.push(db, entry, vendor, now, visitor_waiting=True, photos=photos), INLINE_PUSH_SECONDS)
    except TimeoutError:
        # A slow vendor does not keep the visitor waiting: the drainer carries on.
        await outbox.postpone(db, entry, now, f"the vendor took longer than {INLINE_PUSH_SECONDS:g} s")
        return Confirmed(await booking_by_reference(db, booking.reference) or booking)
    if result.state == "slot_taken":
        return await slot_taken(vendor, BookingRequest(booking))
    return Confirmed(await booking_by_reference(db, booking.reference) or booking)
