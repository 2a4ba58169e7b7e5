"""The booking session document: where a visitor is in a flow and what they have chosen."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from app.domain.booking import (
    Answer,
    Booking,
    BookingStatus,
    ChosenService,
    ChosenWindow,
    Customer,
    DetailValue,
    VendorRecord,
)
from app.domain.photo import Photo
from app.domain.place import KnownPlace

Direction = Literal["forward", "back", "none"]
Status = Literal["active", "out_of_area", "booked"]


@dataclass
class BookingDraft:
    """The booking being assembled, step by step."""

    zip_code: str | None = None
    service: ChosenService | None = None
    answers: list[Answer] = field(default_factory=list)
    details: dict[str, DetailValue] | None = None  # None until the AdditionalDetails step is submitted
    timeslot: ChosenWindow | None = None
    customer: Customer | None = None
    # The photos of the problem when AdditionalDetails was last submitted (app/photos/).
    photos: list[Photo] = field(default_factory=list)
    # The address on file a returning customer chose at the Customer step (app/steps/returning.py).
    known_place: KnownPlace | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "known_place": self.known_place.to_document() if self.known_place else None,
            "photos": [p.to_document() for p in self.photos],
            "zip_code": self.zip_code,
            "service": self.service.to_document() if self.service else None,
            "answers": [a.to_document() for a in self.answers],
            "details": self.details,
            "timeslot": self.timeslot.to_document() if self.timeslot else None,
            "customer": self.customer.to_document() if self.customer else None,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> BookingDraft:
        return cls(
            zip_code=doc.get("zip_code"),
            service=ChosenService.from_document(doc["service"]) if doc.get("service") else None,
            answers=[Answer.from_document(a) for a in doc.get("answers") or []],
            details=doc.get("details"),
            timeslot=ChosenWindow.from_document(doc["timeslot"]) if doc.get("timeslot") else None,
            customer=Customer.from_document(doc["customer"]) if doc.get("customer") else None,
            photos=[Photo.from_document(p) for p in doc.get("photos") or [] if isinstance(p, dict)],
            known_place=KnownPlace.from_document(doc["known_place"]) if isinstance(doc.get("known_place"), dict) else None,
        )


@dataclass
class BookingSession:
    id: str
    token_hash: str
    organization_id: str
    flow_id: str
    steps: list[str]
    current_step: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    completed_steps: list[str] = field(default_factory=list)
    # What each step showed last (the visitor's entries), restored when they come Back.
    saved_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    booking: BookingDraft = field(default_factory=BookingDraft)
    direction: Direction = "none"
    status: Status = "active"
    booking_reference: str | None = None
    attribution: dict[str, str] = field(default_factory=dict)
    version: int = 0
    # What the visitor reads (app/i18n.py's locales) and the time zone their device is in
    # (an IANA name, or None when the widget did not say or it is not a zone we know).
    locale: str = "en_US"
    visitor_zone: str | None = None
    # The server events numbered so far: a request numbers its own from here and saves the
    # count with the session, in the same write (None: a session from before this field,
    # whose events are numbered by the old counter collection until it expires).
    server_events: int | None = 0
    # The step requests of the current rate-limit window (`requests_window`, a number of
    # windows since the epoch): the per-session limit, counted in the session's own write.
    requests_window: int = 0
    requests_in_window: int = 0

    def state_of(self, step_id: str) -> dict[str, Any]:
        return self.saved_state.setdefault(step_id, {})

    def new_booking(self, status: BookingStatus, vendor: VendorRecord, now: datetime, reference: str = "") -> Booking:
        """The booking the complete draft makes (`missing_part` says what is still missing)."""
        draft = self.booking
        assert draft.service is not None and draft.timeslot is not None and draft.customer is not None
        return Booking(
            reference=reference,
            session_id=self.id,
            organization_id=self.organization_id,
            flow_id=self.flow_id,
            status=status,
            service=draft.service,
            window=draft.timeslot,
            customer=draft.customer,
            vendor=vendor,
            created_at=now,
            answers=tuple(draft.answers),
            details=dict(draft.details or {}),
            zip_code=draft.zip_code,
            attribution=dict(self.attribution),
            locale=self.locale,
            photos=tuple(draft.photos),
            known_place=draft.known_place,
        )

    def to_document(self) -> dict[str, Any]:
        # Not `asdict`: it deep-copies every list and dict on each save, and the document is
        # only encoded (BSON) and dropped. The booking draft is the one dataclass inside.
        doc = {name: getattr(self, name) for name in _SESSION_FIELDS}
        doc["_id"] = doc.pop("id")
        doc["booking"] = self.booking.to_document()
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> BookingSession:
        data = dict(doc)
        data["id"] = data.pop("_id")
        data["booking"] = BookingDraft.from_document(data.get("booking") or {})
        data.setdefault("server_events", None)  # saved before sessions numbered their events
        return cls(**data)


_SESSION_FIELDS = tuple(f.name for f in fields(BookingSession))
