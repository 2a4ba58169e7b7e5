"""The company's inbox of bookings: filtered, searched, paged, exported; one booking with
everything known about it (the vendor's push history, the visitor's steps).

Every query is scoped to one organization here, so no page of the console can name
another company's booking. Search takes the visitor's words literally (no patterns):
each word must match the name, email, phone or reference.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, get_args

from app.bookings.repository import booking_by_reference
from app.db import Database
from app.domain.booking import Booking, BookingStatus

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
MAX_SEARCH = 100
STATUSES: tuple[str, ...] = get_args(BookingStatus)

EVENT_LABELS = {
    "session_started": "Opened the booking form",
    "step_shown": "Saw a step",
    "step_submitted": "Submitted a step",
    "answer_chosen": "Chose an answer",
    "validation_error": "Corrected a form",
    "out_of_area": "Was outside the service area",
    "lead_left": "Left their details",
    "timeslot_viewed": "Looked at the calendar",
    "booking_confirmed": "Booked",
    "booking_failed": "Could not book",
    "modal_opened": "Opened the widget",
    "modal_closed": "Closed the widget",
    "step_time": "Time on a step",
    "client_error": "Hit an error in the browser",
    "page_hidden": "Left the page",
}


@dataclass(frozen=True)
class BookingFilter:
    status: str = ""
    service: str = ""
    flow: str = ""
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""
    page: int = 1
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> BookingFilter:
        """The filter a query string asks for; what makes no sense is dropped and said."""
        problems: dict[str, str] = {}

        def day(name: str) -> date | None:
            text = (args.get(name) or "").strip()[:10]
            if not text:
                return None
            try:
                return date.fromisoformat(text)
            except ValueError:
                problems[name] = "Use a date like 2026-03-01."
                return None

        status = (args.get("status") or "").strip()
        if status and status not in STATUSES:
            problems["status"] = "Choose a status from the list."
            status = ""
        return cls(
            status=status,
            service=(args.get("service") or "").strip()[:64],
            flow=(args.get("flow") or "").strip()[:64],
            date_from=day("from"),
            date_to=day("to"),
            search=search_text(args),
            page=page_number(args),
            problems=problems,
        )

    def query(self, organization_id: str) -> dict[str, Any]:
        query: dict[str, Any] = {"organization_id": organization_id}
        if self.status:
            query["status"] = self.status
        if self.service:
            query["service.id"] = self.service
        if self.flow:
            query["flow_id"] = self.flow
        days: dict[str, str] = {}
        if self.date_from:
            days["$gte"] = self.date_from.isoformat()
        if self.date_to:
            days["$lte"] = self.date_to.isoformat()
        if days:
            query["date"] = days
        words = [w for w in self.search.split(" ") if w]
        if words:
            query["$and"] = [_matching(word) for word in words[:6]]
        return query

    def as_query_string(self, **changes: object) -> dict[str, str]:
        """The filter as query parameters (for links to other pages and the export)."""
        values = {
            "status": self.status, "service": self.service, "flow": self.flow,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "q": self.search, "page": str(self.page),
        } | {k: str(v) for k, v in changes.items()}
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


def page_number(args: Mapping[str, str]) -> int:
    """The page asked for (1 to 10,000; 1 for anything else)."""
    try:
        return max(1, min(int(args.get("page") or 1), 10_000))
    except ValueError:
        return 1


def search_text(args: Mapping[str, str]) -> str:
    """What was typed in the search box, spaces tidied, at most MAX_SEARCH characters."""
    return " ".join((args.get("q") or "").split())[:MAX_SEARCH]


def literal_word(word: str, fields: tuple[str, ...], phone_field: str) -> dict[str, Any]:
    """A query that one of `fields` contains `word` (as typed: no pattern), or the phone its digits."""
    literal = {"$regex": re.escape(word), "$options": "i"}
    matches: list[dict[str, Any]] = [{name: literal} for name in fields]
    digits = re.sub(r"\D", "", word)
    if len(digits) >= 3:
        matches.append({phone_field: {"$regex": re.escape(digits)}})
    return {"$or": matches}


def _matching(word: str) -> dict[str, Any]:
    return literal_word(word, ("_id", "customer.first_name", "customer.last_name", "customer.email"), "customer.phone")


@dataclass(frozen=True)
class BookingPage:
    bookings: list[Booking]
    total: int
    filter: BookingFilter

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


async def list_bookings(db: Database, organization_id: str, wanted: BookingFilter) -> BookingPage:
    query = wanted.query(organization_id)
    total = await db.bookings.count_documents(query)
    cursor = db.bookings.find(query).sort([("created_at", -1), ("_id", -1)]).skip((wanted.page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return BookingPage([Booking.from_document(doc) async for doc in cursor], total, wanted)


async def counts_by_status(db: Database, organization_id: str) -> dict[str, int]:
    found = {status: 0 for status in STATUSES}
    async for row in await db.bookings.aggregate([
        {"$match": {"organization_id": organization_id}}, {"$group": {"_id": "$status", "n": {"$sum": 1}}},
    ]):
        if row["_id"] in found:
            found[row["_id"]] = int(row["n"])
    return found


async def services_and_flows(db: Database, organization_id: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(id, name) of the services and flows the organization's flows offer, for the filters."""
    services: dict[str, str] = {}
    flows: list[tuple[str, str]] = []
    async for doc in db.flows.find({"organization_id": organization_id}).sort("position", 1):
        flows.append((str(doc["flow_id"]), str(doc.get("name") or doc["flow_id"])))
        for service in (doc.get("service_graph") or {}).get("services") or []:
            if isinstance(service, dict) and service.get("id"):
                services.setdefault(str(service["id"]), str(service.get("name") or service["id"]))
    return sorted(services.items(), key=lambda s: s[1]), flows


# -- one booking -------------------------------------------------------------------------


@dataclass(frozen=True)
class Push:
    """One entry of the vendor outbox about a booking: its push, or a change."""

    kind: str
    state: str
    attempts: int
    created_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Step:
    at: datetime
    label: str
    step: str | None
    detail: str


@dataclass(frozen=True)
class BookingRecord:
    booking: Booking
    pushes: list[Push]
    timeline: list[Step]


def _detail(event: Mapping[str, Any]) -> str:
    data = event.get("data") or {}
    shown = [f"{k}: {v}" for k, v in data.items() if k not in {"attribution"} and isinstance(v, str | int | float | bool)]
    return ", ".join(shown)[:200]


async def booking_record(db: Database, organization_id: str, reference: str, zone: Any) -> BookingRecord | None:
    """The booking `reference` if it is this organization's, with its pushes and the
    visitor's steps; None otherwise (another company's booking is simply not found)."""
    booking = await booking_by_reference(db, reference[:64])
    if booking is None or booking.organization_id != organization_id:
        return None
    pushes = []
    async for entry in db.vendor_outbox.find({"target_id": booking.reference, "kind": {"$in": ["booking", "change"]}}).sort("created_at", 1):
        created = entry.get("created_at")
        pushes.append(Push(
            kind=str(entry.get("kind")), state=str(entry.get("state")), attempts=int(entry.get("attempts") or 0),
            created_at=datetime.fromtimestamp(created, zone) if isinstance(created, int | float) else None,
            last_error=entry.get("last_error"),
        ))
    timeline = [
        Step(
            at=event["at"], label=EVENT_LABELS.get(str(event.get("type")), str(event.get("type")).replace("_", " ")),
            step=event.get("step"), detail=_detail(event),
        )
        async for event in db.events.find({"session_id": booking.session_id}).sort("at", 1).limit(500)
    ]
    return BookingRecord(booking, pushes, timeline)


# -- export ------------------------------------------------------------------------------

CSV_COLUMNS = (
    "reference", "status", "created", "date", "window", "service", "first_name", "last_name", "phone", "email",
    "street", "unit", "city", "state", "zip", "flow", "utm_source", "utm_campaign", "gclid",
)


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or return,
    which some programs skip) would be read as a formula, so it gets a leading quote."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def bookings_csv(bookings: list[Booking], zone: Any) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for b in bookings:
        c = b.customer
        row = [
            b.reference, b.status, b.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), b.day.isoformat(),
            b.window.label, b.service.name, c.first_name, c.last_name, c.phone, c.email, c.street, c.unit, c.city,
            c.state, c.zip_code, b.flow_id, b.attribution.get("utm_source", ""), b.attribution.get("utm_campaign", ""),
            b.attribution.get("gclid", ""),
        ]
        writer.writerow([spreadsheet_safe(str(v or "")) for v in row])
    return out.getvalue()


async def export_bookings(db: Database, organization_id: str, wanted: BookingFilter) -> list[Booking]:
    cursor = db.bookings.find(wanted.query(organization_id)).sort([("created_at", -1), ("_id", -1)]).limit(EXPORT_LIMIT)
    return [Booking.from_document(doc) async for doc in cursor]
