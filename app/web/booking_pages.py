"""Pages of one booking opened by a signed link (no account): for now its calendar file."""

from __future__ import annotations

from quart import Blueprint, Response

from app.bookings.calendar_file import calendar_file
from app.bookings.links import BadLink, Purpose
from app.bookings.repository import booking_by_reference
from app.domain.booking import Booking
from app.flows.models import Organization
from app.flows.repository import organization_by_slug
from app.web import services
from app.web.problems import HttpProblem

bp = Blueprint("booking_pages", __name__)


@bp.errorhandler(HttpProblem)
async def link_problem(error: HttpProblem) -> Response:
    return Response(error.message + "\n", status=error.status, content_type="text/plain; charset=utf-8")


async def _linked_booking(token: str, purpose: Purpose) -> tuple[Booking, Organization]:
    try:
        claim = services.current().links.claim(token, purpose, services.now())
    except BadLink as exc:
        raise HttpProblem(404, "bad_link", str(exc)) from None
    db = services.current_db()
    booking = await booking_by_reference(db, claim.reference)
    organization = None if booking is None else await organization_by_slug(db, booking.organization_id)
    if booking is None or organization is None:
        raise HttpProblem(410, "booking_gone", "This booking no longer exists. Please call the company.")
    return booking, organization


@bp.get("/bookings/<token>/calendar.ics")
async def booking_calendar(token: str) -> Response:
    """The booking as a calendar file, as it is now (the confirmation's *Add to calendar*)."""
    booking, organization = await _linked_booking(token, "calendar")
    data = calendar_file(
        booking, company=organization.name, company_phone=organization.contact.phone, zone_name=organization.timezone,
        mail_from=services.current().settings.mail_from, now=services.now(),
        method="CANCEL" if booking.status == "cancelled" else "REQUEST",
    )
    return Response(data, content_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="booking-{booking.reference}.ics"',
        "Cache-Control": "no-store",
    })
