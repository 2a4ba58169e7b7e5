"""The booking, typed: who, what, when and where, and its one mapping to and from MongoDB.

A booking session assembles the parts step by step (`Customer`, `ChosenService`,
`Answer`s, details, `ChosenWindow`); confirming turns them into one `Booking`. Every
floor reads these types — the steps, confirm, the outbox, the vendors, the API, the
templates, and what follows a booking (emails, reschedule, the company's inbox,
webhooks) — and only this module knows how they are stored.

Stored shapes (unchanged from the dicts they replace, so existing documents load):
a window is `{date: "YYYY-MM-DD", window_id, label, start: "HH:MM", end: "HH:MM"}`,
a booking is keyed by its reference (`_id`) and repeats the window's date as `date`
(indexed for the day's bookings).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, tzinfo
from typing import Any, ClassVar, Literal

from app.domain.photo import Photo
from app.domain.place import KnownPlace, mask_street

BookingStatus = Literal["pending", "confirmed", "slot_taken", "needs_attention", "cancelled"]
DetailValue = str | bool


def long_date(day: date) -> str:
    """'Wednesday, March 3': how a day reads in the widget, emails and the vendors' notes."""
    return f"{day.strftime('%A, %B')} {day.day}"


def tel(phone: str) -> str:
    """A phone number as a tel: link takes it (digits and +)."""
    return re.sub(r"[^\d+]", "", phone)


def _text(doc: Mapping[str, Any], key: str) -> str:
    value = doc.get(key)
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class ChosenService:
    """The service the visitor's answers led to."""

    id: str
    name: str
    duration_minutes: int = 60

    def to_document(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "duration_minutes": self.duration_minutes}

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ChosenService:
        return cls(str(doc["id"]), _text(doc, "name") or str(doc["id"]), int(doc.get("duration_minutes") or 60))


@dataclass(frozen=True)
class Answer:
    """One service question and the option chosen on it."""

    question: str
    prompt: str
    answer: str
    label: str

    def to_document(self) -> dict[str, str]:
        return {"question": self.question, "prompt": self.prompt, "answer": self.answer, "label": self.label}

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Answer:
        return cls(_text(doc, "question"), _text(doc, "prompt"), _text(doc, "answer"), _text(doc, "label"))


@dataclass(frozen=True)
class ChosenWindow:
    """An arrival window on one day, in the company's time zone."""

    day: date
    window_id: str
    label: str
    start: time
    end: time

    @property
    def long_label(self) -> str:
        """'Wednesday, March 3, 8 – 11 am'."""
        return f"{long_date(self.day)}, {self.label}"

    def starts_at(self, zone: tzinfo) -> datetime:
        return datetime.combine(self.day, self.start, tzinfo=zone)

    def ends_at(self, zone: tzinfo) -> datetime:
        return datetime.combine(self.day, self.end, tzinfo=zone)

    def to_document(self) -> dict[str, str]:
        return {
            "date": self.day.isoformat(),
            "window_id": self.window_id,
            "label": self.label,
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ChosenWindow:
        return cls(
            day=date.fromisoformat(doc["date"]),
            window_id=str(doc["window_id"]),
            label=_text(doc, "label"),
            start=time.fromisoformat(doc.get("start") or "00:00"),
            end=time.fromisoformat(doc.get("end") or "00:00"),
        )


@dataclass(frozen=True)
class Customer:
    """Who booked and where the technician goes; `phone` is E.164 (+1…), `state` two letters."""

    first_name: str
    last_name: str
    phone: str
    email: str
    street: str
    city: str
    state: str
    zip_code: str
    unit: str = ""
    # The address is one on file (a returning customer chose it, masked): the visitor is
    # shown only its masked street, whoever they are; the company sees it whole.
    on_file: bool = False

    FIELDS: ClassVar[tuple[str, ...]] = ("first_name", "last_name", "phone", "email", "street", "unit", "city", "state", "zip_code")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def street_line(self) -> str:
        return f"{self.street}, {self.unit}" if self.unit else self.street

    @property
    def address(self) -> str:
        """One line: '12 Main St, Apt 4, Austin, TX 78701'."""
        return f"{self.street_line}, {self.city}, {self.state} {self.zip_code}"

    @property
    def shown_street_line(self) -> str:
        """The street as the visitor is shown it (widget, their emails and booking page)."""
        return mask_street(self.street) if self.on_file else self.street_line

    @property
    def shown_place(self) -> str:
        """'Austin, TX 78701' as the visitor is shown it: nothing of an address on file."""
        return "" if self.on_file else f"{self.city}, {self.state} {self.zip_code}"

    @property
    def shown_address(self) -> str:
        return ", ".join(part for part in (self.shown_street_line, self.shown_place) if part)

    def to_document(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS} | ({"on_file": True} if self.on_file else {})

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Customer:
        return cls(**{name: _text(doc, name) for name in cls.FIELDS}, on_file=doc.get("on_file") is True)


@dataclass(frozen=True)
class VendorRecord:
    """Where the booking went: the vendor, its id there once it answered, its last refusal."""

    type: str
    external_id: str | None = None
    error: str | None = None

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type, "external_id": self.external_id}
        if self.error is not None:
            doc["error"] = self.error
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> VendorRecord:
        external_id = doc.get("external_id")
        return cls(_text(doc, "type"), None if external_id is None else str(external_id), doc.get("error"))


ChangeKind = Literal["rescheduled", "cancelled", "handled", "retried"]


@dataclass(frozen=True)
class BookingChange:
    """One change to a booking after it was made: who, when, and what it was before."""

    at: datetime
    kind: ChangeKind
    by: Literal["visitor", "office"]
    previous_window: ChosenWindow | None = None  # rescheduled: the window it had
    reason: str | None = None  # cancelled: what the visitor (or the office) said, if anything
    person: str | None = None  # by the office: who, by their sign-in email

    def to_document(self) -> dict[str, Any]:
        return {
            "at": self.at, "kind": self.kind, "by": self.by, "reason": self.reason, "person": self.person,
            "previous_window": self.previous_window.to_document() if self.previous_window else None,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> BookingChange:
        previous = doc.get("previous_window")
        return cls(
            at=doc["at"], kind=doc["kind"], by=doc.get("by", "visitor"), reason=doc.get("reason"), person=doc.get("person"),
            previous_window=ChosenWindow.from_document(previous) if previous else None,
        )


@dataclass(frozen=True)
class PendingChange:
    """A change the visitor asked for that the vendor has not made yet (it was slow or
    down): the vendor outbox carries it out, and the visitor is emailed how it ended."""

    id: str
    kind: Literal["reschedule", "cancel"]
    requested_at: datetime
    window: ChosenWindow | None = None  # reschedule: the window asked for
    reason: str | None = None  # cancel: what the visitor said, if anything

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "requested_at": self.requested_at, "reason": self.reason,
            "window": self.window.to_document() if self.window else None,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> PendingChange:
        window = doc.get("window")
        return cls(
            id=str(doc["id"]), kind=doc["kind"], requested_at=doc["requested_at"], reason=doc.get("reason"),
            window=ChosenWindow.from_document(window) if window else None,
        )


@dataclass(frozen=True)
class Booking:
    """One booking: unique per session, known by its reference (read out over the phone).

    `version` counts changes to what was booked (a new window, a cancellation): calendar
    files carry it as SEQUENCE and signed links are bound to it.
    """

    reference: str
    session_id: str
    organization_id: str
    flow_id: str
    status: BookingStatus
    service: ChosenService
    window: ChosenWindow
    customer: Customer
    vendor: VendorRecord
    created_at: datetime
    answers: tuple[Answer, ...] = ()
    details: Mapping[str, DetailValue] = field(default_factory=dict)
    zip_code: str | None = None
    attribution: Mapping[str, str] = field(default_factory=dict)
    version: int = 1
    updated_at: datetime | None = None
    changes: tuple[BookingChange, ...] = ()
    # A change on its way to the vendor; not a version of its own until it is made.
    pending_change: PendingChange | None = None
    # The visitor's language (app/i18n.py): their emails and booking page speak it.
    locale: str = "en_US"
    # Photos of the problem the visitor added (app/photos/).
    photos: tuple[Photo, ...] = ()
    # A returning customer's address on file, with its customer and address at the vendor.
    known_place: KnownPlace | None = None

    @property
    def day(self) -> date:
        return self.window.day

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    def rescheduled(self, window: ChosenWindow, now: datetime, by: Literal["visitor", "office"] = "visitor") -> Booking:
        """The booking in `window`: the next version, with the change recorded."""
        change = BookingChange(now, "rescheduled", by, previous_window=self.window)
        return replace(
            self, window=window, version=self.version + 1, updated_at=now, changes=(*self.changes, change), pending_change=None
        )

    def cancelled(
        self, now: datetime, reason: str | None, by: Literal["visitor", "office"] = "visitor", person: str | None = None,
    ) -> Booking:
        change = BookingChange(now, "cancelled", by, reason=reason, person=person)
        return replace(
            self, status="cancelled", version=self.version + 1, updated_at=now, changes=(*self.changes, change),
            pending_change=None,
        )

    @property
    def is_settled(self) -> bool:
        """The vendor has it (or it was cancelled): nothing is left to push."""
        return self.status in {"confirmed", "cancelled"}

    def with_reference(self, reference: str) -> Booking:
        return replace(self, reference=reference)

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": self.reference,
            "session_id": self.session_id,
            "organization_id": self.organization_id,
            "flow_id": self.flow_id,
            "status": self.status,
            "date": self.window.day.isoformat(),
            "window": self.window.to_document(),
            "service": self.service.to_document(),
            "answers": [a.to_document() for a in self.answers],
            "details": dict(self.details),
            "customer": self.customer.to_document(),
            "zip_code": self.zip_code,
            "vendor": self.vendor.to_document(),
            "attribution": dict(self.attribution),
            "created_at": self.created_at,
            "updated_at": self.updated_at or self.created_at,
            "version": self.version,
            "changes": [c.to_document() for c in self.changes],
            "pending_change": self.pending_change.to_document() if self.pending_change else None,
            "locale": self.locale,
            "photos": [p.to_document() for p in self.photos],
            "known_place": self.known_place.to_document() if self.known_place else None,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Booking:
        return cls(
            reference=str(doc["_id"]),
            session_id=str(doc["session_id"]),
            organization_id=str(doc["organization_id"]),
            flow_id=_text(doc, "flow_id"),
            status=doc["status"],
            service=ChosenService.from_document(doc["service"]),
            window=ChosenWindow.from_document(doc["window"]),
            customer=Customer.from_document(doc.get("customer") or {}),
            vendor=VendorRecord.from_document(doc.get("vendor") or {}),
            created_at=doc["created_at"],
            answers=tuple(Answer.from_document(a) for a in doc.get("answers") or []),
            details=dict(doc.get("details") or {}),
            zip_code=doc.get("zip_code"),
            attribution=dict(doc.get("attribution") or {}),
            version=int(doc.get("version") or 1),
            updated_at=doc.get("updated_at"),
            changes=tuple(BookingChange.from_document(c) for c in doc.get("changes") or []),
            pending_change=PendingChange.from_document(doc["pending_change"]) if doc.get("pending_change") else None,
            locale=_text(doc, "locale") or "en_US",
            photos=tuple(Photo.from_document(p) for p in doc.get("photos") or [] if isinstance(p, Mapping)),
            known_place=KnownPlace.from_document(doc["known_place"]) if isinstance(doc.get("known_place"), Mapping) else None,
        )
