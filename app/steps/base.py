"""What every step handler is: the form it parses, its checks, its effect on the session."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from app.bookings.notices import Notifier
from app.db import Database
from app.domain.booking import Booking
from app.flows.models import Flow, Organization, PhotoRequest, StepConfig, StepType
from app.photos.uploads import PhotoUploads
from app.sessions.model import BookingSession
from app.vendors.base import VendorStrategy

# Anything a visitor types is cut off here before it is looked at further.
MAX_FIELD_LENGTH = 5000


@dataclass
class StepContext:
    db: Database
    organization: Organization
    flow: Flow
    step: StepConfig
    session: BookingSession
    vendor: VendorStrategy
    now: datetime
    # Tells the visitor about their booking (None where no mail goes: the gallery).
    notifier: Notifier | None = None
    # The session's photos of the problem; None without an uploads bucket.
    photos: PhotoUploads | None = None
    # What happened on this step while handling the request: (type, data), recorded after it.
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def record(self, kind: str, **data: Any) -> None:
        self.events.append((kind, data))

    @property
    def photo_request(self) -> PhotoRequest | None:
        """What this flow asks in photos for the chosen service, when photos can be taken."""
        if self.photos is None:
            return None
        service = self.session.booking.service
        return self.flow.photos_for(service.id if service else None)

    @property
    def state(self) -> dict[str, Any]:
        """This step's saved entries: what the visitor sees again when they come back."""
        return self.session.state_of(self.step.id)


@dataclass
class StepResult:
    errors: dict[str, str] = field(default_factory=dict)
    advance: bool = False
    goto: str | None = None
    notice: str | None = None
    # The booking the step just made (the Summary's confirm): its confirmation shows it
    # without reading it back.
    booking: Booking | None = None


class FormData:
    """The submitted fields, trimmed and bounded."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._fields = fields

    def text(self, name: str) -> str:
        values = self._fields.get(name) or [""]
        return values[0][:MAX_FIELD_LENGTH].strip()

    def flag(self, name: str) -> bool:
        return self.text(name).lower() in {"on", "true", "1", "yes"}


class StepHandler(ABC):
    step_type: ClassVar[StepType]
    template: ClassVar[str]

    async def view(self, ctx: StepContext, query: dict[str, str]) -> dict[str, Any]:
        """Variables the step's template needs beyond the common ones."""
        return {}

    @abstractmethod
    async def submit(self, ctx: StepContext, form: FormData) -> StepResult:
        """Check the form, record it on the session, say where the visitor goes next."""

    async def back(self, ctx: StepContext) -> bool:
        """Handle Back inside the step (True), or let the session go to the previous step."""
        return False

    def reopened(self, ctx: StepContext) -> None:
        """The visitor came back to this step from the Summary to change it: show it from
        its start (what they chose stays chosen)."""
