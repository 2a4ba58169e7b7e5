"""A booking's pages, opened by a signed link (no account): its calendar file, and its page
to change the time or cancel (from the visitor's email).

Plain HTML forms and redirects (they work without JavaScript, on any phone); each change
goes through `app/bookings/changes.py` and lands on the booking's page under the link of
its new version. A link that is not ours, for something else, from an earlier email or
past the visit gets a clear page, never someone else's booking.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from markupsafe import Markup
from pymongo.errors import PyMongoError
from quart import Blueprint, Response, redirect, render_template, request

from app.bookings.calendar_file import calendar_file
from app.bookings.changes import (
    ChangeQueued,
    ChangeRefused,
    Rescheduled,
    cancel,
    requested_window,
    reschedule,
    why_not_changeable,
)
from app.bookings.links import BadLink, Purpose
from app.bookings.repository import BookingChanged, booking_by_reference
from app.domain.booking import Booking
from app.flows.models import Organization
from app.flows.repository import organization_by_slug
from app.i18n import gettext
from app.steps.contact import format_phone
from app.steps.timeslot import MonthCalendar, month_calendar, parse_day
from app.vendors.base import AvailabilityScope, VendorError, VendorRejected, VendorStrategy
from app.web import rate_limits, services
from app.web.languages import speak, speak_the_browsers_language
from app.web.problems import HttpProblem
from app.web.vendors import request_vendor

bp = Blueprint("booking_pages", __name__)
bp.before_request(speak_the_browsers_language)  # a link we cannot read: the browser's language

STYLESHEET = Path(__file__).resolve().parent.parent.parent / "static" / "scheduler.css"
MAX_FIELD = 100


@cache
def _stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


@bp.errorhandler(HttpProblem)
async def link_problem(error: HttpProblem) -> Response:
    html = await render_template("pages/problem.html", problem=error, organization=None, css=Markup(_stylesheet()), theme_style="")
    return Response(html, status=error.status, content_type="text/html; charset=utf-8")


@bp.errorhandler(VendorRejected)
async def vendor_refused(error: VendorRejected) -> Response:
    return await link_problem(HttpProblem(409, "vendor_refused", gettext("Our schedule didn't accept this change, so your booking is unchanged. Please call us to change it.")))


@bp.errorhandler(VendorError)
async def vendor_unreachable(error: VendorError) -> Response:
    return await link_problem(HttpProblem(503, "vendor_unavailable", gettext("We can't reach the schedule right now. Your booking is unchanged: please try again in a minute."), retry_after=30))


@bp.errorhandler(PyMongoError)
async def database_unreachable(error: PyMongoError) -> Response:
    return await link_problem(HttpProblem(503, "database_unavailable", gettext("We can't reach our booking system right now. Your booking is unchanged: please try again in a minute."), retry_after=30))


async def _linked_booking(token: str, purpose: Purpose) -> tuple[Booking, Organization]:
    try:
        claim = services.current().links.claim(token, purpose, services.now())
    except BadLink as exc:
        raise HttpProblem(404, "bad_link", gettext(str(exc))) from None
    db = services.current_db()
    booking = await booking_by_reference(db, claim.reference)
    organization = None if booking is None else await organization_by_slug(db, booking.organization_id)
    if booking is None or organization is None:
        raise HttpProblem(410, "booking_gone", gettext("This booking no longer exists. Please call the company."))
    speak(booking.locale, await services.current().config.flow(organization.slug, booking.flow_id))  # the visitor's language
    if purpose == "manage" and claim.version != booking.version:
        raise HttpProblem(
            410, "link_out_of_date", gettext("This booking has changed since this email: please use the link in your latest email about it.")
        )
    return booking, organization


def _vendor(organization: Organization, booking: Booking) -> VendorStrategy:
    return request_vendor(organization, services.now(), AvailabilityScope.of_booking(booking.service, booking.zip_code))


def _manage_url(booking: Booking, organization: Organization, **query: str) -> str:
    token = services.current().links.token(booking, "manage", organization.zone)
    return f"/bookings/{token}" + (f"?{urlencode(query)}" if query else "")


async def _page(template: str, organization: Organization, booking: Booking, status: int = 200, **variables: object) -> Response:
    flow = await services.current().config.flow(organization.slug, booking.flow_id)
    theme = flow.theme.css_variables() if flow is not None else {}
    html = await render_template(
        template, organization=organization, booking=booking, css=Markup(_stylesheet()),
        theme_style="; ".join(f"{name}: {value}" for name, value in theme.items()), format_phone=format_phone, **variables,
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})


async def _count_change() -> None:
    await rate_limits.check(services.current_db(), "steps_per_ip", rate_limits.client_ip(), services.now())


@bp.get("/bookings/<token>")
async def booking_page(token: str) -> Response:
    booking, organization = await _linked_booking(token, "manage")
    changed = request.args.get("changed")
    vendor, now = _vendor(organization, booking), services.now()
    refusal = why_not_changeable(booking, organization, vendor, now)
    return await _page(
        "pages/booking.html", organization, booking,
        changed=changed if changed in {"rescheduled", "cancelled"} else None,
        refusal=refusal,
        can_reschedule=why_not_changeable(booking, organization, vendor, now, "reschedule") is None,
        can_cancel=why_not_changeable(booking, organization, vendor, now, "cancel") is None,
        reschedule_url=f"/bookings/{token}/reschedule", cancel_url=f"/bookings/{token}/cancel",
        requested_window=requested_window(booking),
    )


async def _reschedule_page(
    token: str, booking: Booking, organization: Organization, query: dict[str, str],
    errors: dict[str, str] | None = None, notice: str | None = None, status: int = 200,
) -> Response:
    vendor = _vendor(organization, booking)
    refusal = why_not_changeable(booking, organization, vendor, services.now(), "reschedule")
    if refusal:
        raise HttpProblem(409, "change_not_allowed", refusal)
    shown: MonthCalendar = await month_calendar(vendor, organization.zone, services.now(), query, {}, booking.session_id)
    return await _page(
        "pages/reschedule.html", organization, booking, status=status, calendar=shown, errors=errors or {}, notice=notice,
        page_url=f"/bookings/{token}/reschedule", submit_url=f"/bookings/{token}/reschedule", back_url=f"/bookings/{token}",
    )


@bp.get("/bookings/<token>/reschedule")
async def reschedule_page(token: str) -> Response:
    booking, organization = await _linked_booking(token, "manage")
    query = {k: v[:MAX_FIELD] for k, v in request.args.items() if k in {"month", "date"}}
    return await _reschedule_page(token, booking, organization, query)


@bp.post("/bookings/<token>/reschedule")
async def reschedule_booking(token: str) -> Response:
    await _count_change()
    booking, organization = await _linked_booking(token, "manage")
    form = await request.form
    day, window_id = parse_day(form.get("date", "")[:MAX_FIELD]), form.get("window", "")[:MAX_FIELD]
    if day is None:
        return await _reschedule_page(token, booking, organization, {}, {"date": gettext("Choose a day in the calendar.")}, status=422)
    if not window_id:
        return await _reschedule_page(token, booking, organization, {"date": day.isoformat()}, {"window": gettext("Choose an arrival window.")}, status=422)
    try:
        outcome = await reschedule(
            services.current_db(), organization, _vendor(organization, booking), booking, day, window_id, services.now(),
            services.current().notifier,
        )
    except ChangeRefused as exc:
        return await _reschedule_page(token, booking, organization, {"date": day.isoformat()}, {"window": str(exc)}, status=422)
    except BookingChanged:
        raise HttpProblem(409, "booking_changed", gettext("This booking was just changed somewhere else: open the link in your latest email.")) from None
    if isinstance(outcome, Rescheduled):
        return redirect(_manage_url(outcome.booking, organization, changed="rescheduled"), 303)  # type: ignore[return-value]
    if isinstance(outcome, ChangeQueued):
        return redirect(_manage_url(outcome.booking, organization), 303)  # type: ignore[return-value]
    nearest = outcome.alternatives[0].day if outcome.alternatives else day
    return await _reschedule_page(token, booking, organization, {"date": nearest.isoformat()}, notice=outcome.message, status=409)


@bp.post("/bookings/<token>/cancel")
async def cancel_booking(token: str) -> Response:
    await _count_change()
    booking, organization = await _linked_booking(token, "manage")
    reason = (await request.form).get("reason", "")[:2000]
    try:
        changed = await cancel(
            services.current_db(), organization, _vendor(organization, booking), booking, reason, services.now(),
            services.current().notifier,
        )
    except ChangeRefused as exc:
        raise HttpProblem(409, "change_not_allowed", str(exc)) from None
    except BookingChanged:
        raise HttpProblem(409, "booking_changed", gettext("This booking was just changed somewhere else: open the link in your latest email.")) from None
    if isinstance(changed, ChangeQueued):
        return redirect(_manage_url(changed.booking, organization), 303)  # type: ignore[return-value]
    return redirect(_manage_url(changed, organization, changed="cancelled"), 303)  # type: ignore[return-value]


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
