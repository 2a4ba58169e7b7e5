"""The designers' workbench (not served in production): every step in each of its states.

Each state is rendered by the real step handler and `render_step` from an in-memory
session of the demo organization and a sample calendar, so what the gallery shows is
what visitors get. The page puts each into a real shadow root with the built CSS, at
desktop and phone width, with a theme switcher fed by the flows' themes.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from quart import Blueprint, render_template, request

from app import i18n
from app.bookings.confirm import describe_window
from app.bookings.notices import FailedChange, NoticeKind, OfficeNotice, compose, compose_office, mail_templates
from app.demo import DEMO_FILE
from app.domain.booking import Answer, Booking, BookingStatus, ChosenService, ChosenWindow, Customer, VendorRecord
from app.domain.lead import Lead
from app.domain.photo import Photo
from app.domain.place import KnownPlace
from app.flows.loading import load_organization_file
from app.flows.models import Flow, NoticeTopic, Organization, Person, Theme
from app.i18n import N_, gettext
from app.mail.message import Mail
from app.sessions.model import BookingDraft, BookingSession
from app.steps.base import StepContext
from app.steps.engine import step_view
from app.vendors.base import ArrivalWindow, BookingRequest, DayAvailability, VendorBooking, VendorStrategy
from app.web import services
from app.web.problems import DATABASE_PROBLEM, HttpProblem
from app.web.rendering import render_view
from app.web.steps import VENDOR_PROBLEM

bp = Blueprint("gallery", __name__)


class SampleCalendar(VendorStrategy):
    """Believable availability without a database: open weekdays, one full window."""

    vendor_type = "sample"

    @classmethod
    def create(cls, *args: object, **kwargs: object) -> SampleCalendar:
        raise NotImplementedError("the gallery makes its sample calendar itself")

    def __init__(self, today: date, full: bool = False) -> None:
        self.today, self.full = today, full

    def _open(self, day: date) -> bool:
        return not self.full and day > self.today and day.weekday() < 6

    async def get_month_availability(self, year: int, month: int) -> list[DayAvailability]:
        days = [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
        return [DayAvailability(day=d, remaining=(d.day % 4 + 1) * 2 if self._open(d) else 0) for d in days]

    async def get_date_timeslots(
        self, day: date, *, session_id: str | None = None, fresh: bool = False
    ) -> list[ArrivalWindow]:
        places = (3, 1, 0) if self._open(day) else (0, 0, 0)
        spans = (("morning", "8 – 11 am", 8, 11), ("midday", "11 am – 2 pm", 11, 14), ("afternoon", "2 – 5 pm", 14, 17))
        return [ArrivalWindow(day, wid, label, time(s), time(e), left) for (wid, label, s, e), left in zip(spans, places)]

    async def create_booking(self, request: BookingRequest) -> VendorBooking:
        raise NotImplementedError("the gallery does not book")


SAMPLE_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed")


class SamplePhotos:
    """The photos a gallery state shows as added (no bucket: each a coloured square)."""

    def __init__(self, count: int) -> None:
        self.count = count

    async def of_session(self, session_id: str) -> list[Photo]:
        return [Photo(f"sample{i}", f"photos/sample/{i}.jpg", f"photos/sample/{i}-thumb.jpg", 1600, 1200, 200_000) for i in range(self.count)]


def sample_photo_url(key: str) -> str:
    colour = SAMPLE_COLOURS[int(key.split("/")[-1][0]) % len(SAMPLE_COLOURS)]
    square = f'<svg xmlns="http://www.w3.org/2000/svg" width="72" height="72"><rect width="72" height="72" fill="{colour}"/></svg>'
    return "data:image/svg+xml," + quote(square)


@dataclass(frozen=True)
class GalleryState:
    step: str
    name: str
    values: dict[str, Any] = field(default_factory=dict)
    # Each message as the steps write it: English, or (English with %(placeholders)s, values).
    errors: dict[str, str | tuple[str, dict[str, str]]] = field(default_factory=dict)
    notice: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    full_calendar: bool = False
    booking_status: BookingStatus | None = None  # Confirmation states
    visitor_zone: str | None = None  # the visitor's device is in another time zone
    photos: int = 0  # photos of the problem already added (AdditionalDetails)


def _next_weekday(today: date) -> date:
    day = today + timedelta(days=2)
    return day if day.weekday() < 6 else day + timedelta(days=1)


NEAREST = "Sorry, that arrival window was just taken. The nearest free times: %(times)s."


def states(today: date) -> list[GalleryState]:
    day = _next_weekday(today).isoformat()
    customer = {"first_name": "Ada", "last_name": "Lovelace", "phone": "(512) 555-0142", "email": "ada@example.com",
                "street": "100 Congress Ave", "unit": "Suite 4", "city": "Austin", "state": "TX", "zip_code": "78701"}
    return [
        GalleryState("ZipCode", "empty"),
        GalleryState("ZipCode", "filled", {"zip_code": "78701"}),
        GalleryState("ZipCode", "invalid", {"zip_code": "78a"}, {"zip_code": "Enter a 5-digit ZIP code."}),
        GalleryState("ZipCode", "out of area", {"zip_code": "10001", "out_of_area": True}),
        GalleryState("ZipCode", "out of area, lead invalid", {"zip_code": "10001", "out_of_area": True, "lead_phone": "12", "lead_email": "x@"},
                     {"lead_phone": "Enter a 10-digit US phone number, like (512) 555-0100.", "lead_email": "Enter an email address like name@example.com."}),
        GalleryState("ZipCode", "out of area, lead saved", {"zip_code": "10001", "out_of_area": True, "lead_saved": True}),
        GalleryState("ServiceSelection", "first question"),
        GalleryState("ServiceSelection", "second question, answered before", {"trail": ["kind", "plumbing-problem"], "answers": {"kind": "plumbing", "plumbing-problem": "leak"}}),
        GalleryState("ServiceSelection", "nothing chosen", {}, {"answer": "Choose one of the options."}),
        GalleryState("AdditionalDetails", "empty"),
        GalleryState("AdditionalDetails", "filled", {"description": "Water under the kitchen sink", "property-type": "House", "pets": True}),
        GalleryState("AdditionalDetails", "errors", {"description": "", "property-type": ""},
                     {"detail-description": "Please fill this in.", "detail-property-type": "Please choose one."}),
        GalleryState("AdditionalDetails", "with photos", {"description": "Water under the kitchen sink", "property-type": "House"}, photos=3),
        GalleryState("AdditionalDetails", "five photos: no more to add", photos=5),
        GalleryState("AdditionalDetails", "photo required, none added", {}, {"photos": "Add at least one photo of the problem."}),
        GalleryState("Timeslot", "month"),
        GalleryState("Timeslot", "day chosen", query={"date": day}),
        GalleryState("Timeslot", "window chosen", {"date": day, "window": "morning"}, query={"date": day}),
        GalleryState("Timeslot", "window just taken", {"date": day}, query={"date": day}, notice="Sorry, that arrival window was just taken. Please choose another time."),
        GalleryState("Timeslot", "taken at the vendor, nearest offered", {"date": day}, query={"date": day},
                     notice=NEAREST),
        GalleryState("Timeslot", "visitor in another time zone", {"date": day}, query={"date": day}, visitor_zone="America/Los_Angeles"),
        GalleryState("Timeslot", "no windows left", full_calendar=True),
        GalleryState("Timeslot", "no windows left, lead saved", {"lead_phone": "(512) 555-0100", "lead_saved": True}, full_calendar=True),
        GalleryState("Timeslot", "errors", {}, {"date": "Choose a day in the calendar."}),
        GalleryState("Customer", "empty", {"zip_code": "78701"}),
        GalleryState("Customer", "filled", customer),
        GalleryState("Customer", "errors", {"state": "Texas", "zip_code": "10001", "phone": "555", "email": "ada@"}, {
            "first_name": "Enter your first name.", "last_name": "Enter your last name.", "street": "Enter the street address.",
            "city": "Enter the city.", "phone": "Enter a 10-digit US phone number, like (512) 555-0100.",
            "email": "Enter an email address like name@example.com.", "state": "Enter the 2-letter state code, like TX.",
            "zip_code": ("We don't serve ZIP code %(zip)s. Check the service address.", {"zip": "10001"})}),
        GalleryState("Customer", "returning customer: addresses on file", {
            "first_name": "Ada", "last_name": "Lovelace", "phone": "(512) 555-0142", "email": "", "known_place": "p1", "on_file": {
                "phone": "+15125550142", "email": None, "places": [
                    KnownPlace("p1", "100 Congress Ave", "Austin", "TX", "78701", source="vendor").to_document(),
                    KnownPlace("p2", "2201 E 6th St", "Austin", "TX", "78701").to_document(),
                ]}}),
        GalleryState("Summary", "filled"),
        GalleryState("Confirmation", "confirmed", booking_status="confirmed"),
        GalleryState("Confirmation", "vendor pending", booking_status="pending"),
        GalleryState("Problem", "session expired"),
        GalleryState("Problem", "schedule unreachable"),
        GalleryState("Problem", "database unreachable"),
    ]


# The problems a visitor can meet: (status, code, message, offers "Start again", offers "Try again").
PROBLEMS = {
    "session expired": (410, "session_expired", N_("This booking session has expired."), True, False),
    "schedule unreachable": (503, "vendor_unavailable", VENDOR_PROBLEM, False, True),
    "database unreachable": (503, "database_unavailable", DATABASE_PROBLEM, False, True),
}


def sample_draft(flow: Flow, day: date) -> BookingDraft:
    return BookingDraft(
        zip_code="78701",
        service=ChosenService("leak-repair", "Leak repair", 90),
        answers=[Answer("kind", "", "plumbing", "Plumbing"), Answer("plumbing-problem", "", "leak", "A leak or burst pipe")],
        details={"description": "Water under the kitchen sink", "property-type": "House", "pets": True},
        timeslot=ChosenWindow(day, "morning", "8 – 11 am", time(8), time(11)),
        customer=Customer(first_name="Ada", last_name="Lovelace", phone="+15125550142", email="ada@example.com",
                          street="100 Congress Ave", city="Austin", state="TX", zip_code="78701"),
    )


def sample_session(organization: Organization, flow: Flow, now: datetime, current_step: str, **changes: Any) -> BookingSession:
    """An in-memory session of the demo flow with everything chosen (a window two days ahead)."""
    draft = sample_draft(flow, _next_weekday(now.astimezone(organization.zone).date()))
    return BookingSession(
        id="gallery", token_hash="", organization_id=organization.slug, flow_id=flow.id, steps=flow.step_ids,
        current_step=current_step, created_at=now, updated_at=now, expires_at=now, booking=draft,
        **({"locale": i18n.current_locale()} | changes),
    )


def sample_booking(session: BookingSession, status: BookingStatus, now: datetime) -> Booking:
    return session.new_booking(status, VendorRecord("sample"), now, "WB-7K4M2Q")


async def render_state(organization: Organization, flow: Flow, state: GalleryState, now: datetime) -> str:
    if state.step == "Problem":
        status, code, message, restart, retry = PROBLEMS[state.name]
        problem = HttpProblem(status, code, gettext(message))
        return await render_template("steps/problem.html", problem=problem, restart=restart, retry_url="#" if retry else None)
    today = now.astimezone(organization.zone).date()
    step = flow.steps[-1].type if state.step == "Confirmation" else state.step
    index = flow.step_ids.index(step)
    session = sample_session(
        organization, flow, now, current_step=step, completed_steps=flow.step_ids[:index],
        saved_state={step: dict(state.values)}, direction="forward",
        status="booked" if state.step == "Confirmation" else "active", visitor_zone=state.visitor_zone,
    )
    # No database: the sample calendar answers, and the confirmation is given its booking.
    ctx = StepContext(None, organization, flow, flow.steps[index], session, SampleCalendar(today, state.full_calendar), now,  # type: ignore[arg-type]
                      photos=SamplePhotos(state.photos))  # type: ignore[arg-type]
    booking = sample_booking(session, state.booking_status, now) if state.booking_status else None
    # The states' messages are written in English, as the steps write them: shown in the gallery's language.
    errors = {name: gettext(m) if isinstance(m, str) else gettext(m[0]) % m[1] for name, m in state.errors.items()}
    notice = gettext(state.notice) if state.notice else None
    if state.notice == NEAREST:  # as confirm.slot_taken words it, with the sample calendar's next windows
        sample = SampleCalendar(today)
        windows = [w for d in (1, 2) for w in await sample.get_date_timeslots(_next_weekday(today) + timedelta(days=d)) if w.available]
        notice = i18n.tidy(gettext(NEAREST) % {"times": "; ".join(describe_window(w) for w in windows[:3])})
    view = await step_view(ctx, errors=errors, notice=notice, query=state.query, booking=booking)
    return await render_view(view, photo_url=sample_photo_url)


@bp.get("/_dev/gallery")
async def gallery() -> str:
    """Every state; `?lang=es` shows them in another language (the flow's translations too)."""
    config = load_organization_file(DEMO_FILE)
    organization, flow = config.organization, config.flows[0]
    locale = i18n.language_of(request.args.get("lang")) or i18n.DEFAULT_LOCALE
    i18n.answer_in(locale, flow.texts_in(locale))
    now = services.now()
    rendered = [(state, await render_state(organization, flow, state, now)) for state in states(now.astimezone(organization.zone).date())]
    themes = {f"{config.name}: {f.name}": f.theme.css_variables() for f in config.flows}
    running = services.current().running
    if running is not None:
        db = running.db
        async for doc in db.flows.find({}, {"name": 1, "organization_id": 1, "theme": 1}):
            themes[f"{doc['organization_id']}: {doc['name']}"] = Theme.model_validate(doc.get("theme") or {}).css_variables()
    return await render_template(
        "dev/gallery.html", rendered=rendered, themes_json=json.dumps(themes), emails=sample_emails(organization, flow, now),
        languages=[(code[:2], name, code == locale) for code, name in i18n.NATIVE_NAMES.items()],
    )


def sample_emails(organization: Organization, flow: Flow, now: datetime) -> list[tuple[str, Mail]]:
    """The visitor's emails about a sample booking, each kind, as they are sent."""
    session = sample_session(organization, flow, now, current_step=flow.step_ids[-1])
    templates, mail_from = mail_templates(), services.current().settings.mail_from
    kinds: tuple[tuple[NoticeKind, BookingStatus], ...] = (
        ("confirmed", "confirmed"), ("received", "pending"), ("needs_attention", "needs_attention"),
        ("rescheduled", "confirmed"), ("cancelled", "cancelled"), ("change_failed", "confirmed"),
    )
    manage_url = "https://scheduler.example/bookings/sample-link"
    found: list[tuple[str, Mail]] = []
    for kind, status in kinds:
        booking = sample_booking(session, status, now)
        later = replace(booking.window, day=booking.window.day + timedelta(days=1))
        if kind == "rescheduled":
            booking = replace(booking.rescheduled(later, now), status="confirmed")
        failed = FailedChange("sample", "reschedule", later, "that time was taken meanwhile") if kind == "change_failed" else None
        link = None if kind == "cancelled" else manage_url
        found.append((kind, compose(kind, organization, booking, now, mail_from, templates, link, failed, flow.texts_in(booking.locale))))
    # What the company's people receive (templates/email/office.*).
    person = Person(email="owner@example.com", role="owner")
    lead = Lead(id="sample", organization_id=organization.slug, flow_id=flow.id, reason="abandoned", created_at=now,
                phone="+15125550142", email="ada@example.com", name="Ada Lovelace", zip_code="78701", service="Leak repair")
    topics: tuple[tuple[NoticeTopic, BookingStatus], ...] = (("booking", "confirmed"), ("needs_attention", "needs_attention"))
    for topic, status in topics:
        notice = OfficeNotice(topic, organization, now, booking=sample_booking(session, status, now))
        found.append((f"office-{topic}", compose_office(notice, person, templates, "https://scheduler.example")))
    found.append(("office-lead", compose_office(OfficeNotice("lead", organization, now, lead=lead), person, templates, "https://scheduler.example")))
    return found
