"""The reference system's routes, answering JSON to the widget and to integrators."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from quart import Blueprint
from quart_schema import document_headers, validate_querystring, validate_request, validate_response

from app import i18n
from app.api.models import (
    ApiError,
    BookingResponse,
    ButtonTrigger,
    ButtonTriggersResponse,
    Company,
    DateQuery,
    DateTimeslotsResponse,
    DayAvailability,
    FrameTexts,
    KeyHeaders,
    MonthAvailabilityResponse,
    MonthQuery,
    ResolveRequest,
    ResolveResponse,
    ScopeQuery,
    SessionHeaders,
    StepSummary,
    Timeslot,
)
from app.bookings.confirm import Confirmed, Incomplete, SlotTaken, confirm_booking, mark_booked
from app.domain.booking import tel
from app.i18n import gettext
from app.sessions.repository import SessionConflict, save_session
from app.vendors.base import ArrivalWindow, AvailabilityScope
from app.web import rate_limits, services
from app.web.access import current_visit, requesting_organization
from app.web.languages import speak, visitors_locale
from app.web.problems import HttpProblem
from app.web.vendors import request_vendor

bp = Blueprint("api", __name__)



def _timeslot(window: ArrivalWindow) -> Timeslot:
    return Timeslot(
        window_id=window.window_id,
        label=window.label,
        start=window.start.strftime("%H:%M"),
        end=window.end.strftime("%H:%M"),
        remaining=window.remaining,
        available=window.available,
    )


@bp.post("/booking-flow-routers/resolve")
@document_headers(KeyHeaders)
@validate_request(ResolveRequest)
@validate_response(ResolveResponse, 200)
@validate_response(ApiError, 401)
async def resolve_flow(data: ResolveRequest) -> ResolveResponse:
    """The flow (and its theme) that serves a page URL, by the organization's routing rules."""
    organization = await requesting_organization()
    try:
        path = urlsplit(data.url).path or "/"
    except ValueError:
        path = "/"
    flow = await services.current().config.flow(organization.slug, organization.routing.flow_for_path(path))
    if flow is None:
        raise HttpProblem(404, "unknown_flow", "No booking flow serves this page.")
    locale = visitors_locale(data.locale, organization)
    speak(locale, flow)
    phone = organization.contact.phone
    return ResolveResponse(
        flow_id=flow.id,
        flow_name=flow.name,
        steps=[StepSummary(type=s.type, title=str(i18n.company_text(s.title))) for s in flow.steps],
        theme=flow.theme.css_variables(),
        locale=locale,
        company=Company(
            name=organization.name, logo_url=organization.contact.logo_url, phone=phone,
            phone_href=f"tel:{tel(phone)}" if phone else None,
        ),
        texts=FrameTexts(
            title=gettext("Book a visit"), close=gettext("Close"), call=gettext("Call us"),
            offline_title=gettext("Something went wrong"),
            offline_message=gettext("We couldn't reach the booking service. Check your connection and try again."),
            try_again=gettext("Try again"),
        ),
    )


@bp.get("/booking-flow-routers/button-triggers")
@document_headers(KeyHeaders)
@validate_response(ButtonTriggersResponse, 200)
async def button_triggers() -> ButtonTriggersResponse:
    """CSS selectors of the host page's elements that open the widget."""
    organization = await requesting_organization()
    return ButtonTriggersResponse(
        triggers=[ButtonTrigger(selector=t.selector, flow_id=t.flow) for t in organization.button_triggers]
    )


def _scope(query: ScopeQuery) -> AvailabilityScope:
    return AvailabilityScope(query.service, query.duration_minutes, query.zip_code)


@bp.get("/scheduler/month-availability")
@document_headers(KeyHeaders)
@validate_querystring(MonthQuery)
@validate_response(MonthAvailabilityResponse, 200)
async def month_availability(query_args: MonthQuery) -> MonthAvailabilityResponse:
    """Every day of a month with the places left in its arrival windows."""
    organization = await requesting_organization()
    year, month = (int(p) for p in query_args.month.split("-"))
    days = await request_vendor(organization, services.now(), scope=_scope(query_args)).get_month_availability(year, month)
    return MonthAvailabilityResponse(
        month=query_args.month,
        days=[DayAvailability(date=d.day, available=d.available, remaining=d.remaining) for d in days],
    )


@bp.get("/scheduler/date-timeslots")
@document_headers(KeyHeaders)
@validate_querystring(DateQuery)
@validate_response(DateTimeslotsResponse, 200)
async def date_timeslots(query_args: DateQuery) -> DateTimeslotsResponse:
    """The arrival windows of one day."""
    organization = await requesting_organization()
    day: date = query_args.date
    windows = await request_vendor(organization, services.now(), scope=_scope(query_args)).get_date_timeslots(day)
    return DateTimeslotsResponse(date=day, timeslots=[_timeslot(w) for w in windows])


@bp.post("/bookings")
@document_headers(SessionHeaders)
@validate_response(BookingResponse, 201)
@validate_response(ApiError, 409)
async def create_booking() -> tuple[BookingResponse | ApiError, int]:
    """Confirm the session's booking; sending it again returns the same booking."""
    db, now = services.current_db(), services.now()
    visit = await current_visit(db, now)
    await rate_limits.check(db, "confirms_per_session", visit.session.id, now)
    outcome = await confirm_booking(db, visit.flow, visit.session, request_vendor(visit.organization, now, AvailabilityScope.of_booking(visit.session.booking.service, visit.session.booking.zip_code)), now)
    match outcome:
        case SlotTaken(message):
            return ApiError(error="slot_taken", message=message), 409
        case Incomplete(step_id, message):
            return ApiError(error="incomplete", message=f"{step_id}: {message}"), 409
        case Confirmed(booking):
            await services.current().notifier.booking_made(visit.organization, booking, now)
            if visit.session.status != "booked":
                mark_booked(visit.session, booking.reference)
                try:
                    await save_session(db, visit.session, now, services.current().settings.session_ttl)
                except SessionConflict:
                    pass  # a concurrent request saved the session; the booking stands either way
            return BookingResponse(
                reference=booking.reference,
                status=booking.status,
                date=booking.day,
                window=booking.window.to_document(),
                service=booking.service.to_document(),
            ), 201
    raise AssertionError(outcome)
