"""The booking session document: where a visitor is in a flow and what they have chosen."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

Direction = Literal["forward", "back", "none"]
Status = Literal["active", "out_of_area", "booked"]


@dataclass
class BookingDraft:
    """The booking being assembled, step by step."""

    zip_code: str | None = None
    service: dict[str, Any] | None = None  # {id, name, duration_minutes}
    answers: list[dict[str, str]] = field(default_factory=list)  # [{question, prompt, answer, label}]
    details: dict[str, Any] | None = None  # None until the AdditionalDetails step is submitted
    timeslot: dict[str, Any] | None = None  # {date, window_id, label, start, end}
    customer: dict[str, str] | None = None


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

    def state_of(self, step_id: str) -> dict[str, Any]:
        return self.saved_state.setdefault(step_id, {})

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> BookingSession:
        data = dict(doc)
        data["id"] = data.pop("_id")
        data["booking"] = BookingDraft(**data.get("booking") or {})
        return cls(**data)
