"""What a session event is, from the web process or from the widget.

An event is identified by (session, source, sequence): the server numbers its own
events, the widget numbers its own, so the two never collide. That identity is the
SQS deduplication id and the stored document's `_id`, which is what makes every
delivery after the first a no-op.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Source = Literal["server", "client"]
SERVER_EVENT_TYPES = (
    "session_started",
    "step_shown",
    "step_submitted",
    "answer_chosen",
    "validation_error",
    "out_of_area",
    "lead_left",
    "timeslot_viewed",
    "booking_confirmed",
    "booking_failed",
)
CLIENT_EVENT_TYPES = ("modal_opened", "modal_closed", "step_time", "client_error", "page_hidden")
MAX_DATA_BYTES = 1024
MAX_DATA_DEPTH = 4
MAX_KEY_LENGTH = 64


def check_storable(value: Any, depth: int = 0) -> None:
    """Raise ValueError unless MongoDB can store `value` as it is: no key with a NUL, a
    leading `$` or a `.` (the database refuses or misreads them), no integer wider than
    BSON's 64 bits, nesting bounded."""
    if depth > MAX_DATA_DEPTH:
        raise ValueError(f"event data may nest at most {MAX_DATA_DEPTH} levels")
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValueError("event data integers must fit in 64 bits")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
                raise ValueError(f"event data keys are 1 to {MAX_KEY_LENGTH} characters")
            if "\x00" in key or key.startswith("$") or "." in key:
                raise ValueError(f"event data key {key[:20]!r} may not hold a NUL or a '.', nor start with '$'")
            check_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_storable(item, depth + 1)


class SessionEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    session_id: str
    organization_id: str
    flow_id: str
    source: Source
    seq: int = Field(ge=1)
    type: str
    at: datetime
    step: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None  # the request that recorded it, for following it in the logs

    @property
    def key(self) -> str:
        """The event's identity: `session:s12` (server) or `session:c3` (widget)."""
        return f"{self.session_id}:{self.source[0]}{self.seq}"


class ClientEvent(BaseModel):
    """One event as the widget sends it (over the socket or a beacon); bounded."""

    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1, le=1_000_000)
    type: Literal["modal_opened", "modal_closed", "step_time", "client_error", "page_hidden"]
    at: datetime
    step: str | None = Field(default=None, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("data")
    @classmethod
    def _small_and_storable(cls, data: dict[str, Any]) -> dict[str, Any]:
        check_storable(data)
        if len(json.dumps(data, default=str)) > MAX_DATA_BYTES:
            raise ValueError(f"event data must be at most {MAX_DATA_BYTES} bytes")
        return data


class ClientBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["events"] = "events"
    events: list[ClientEvent] = Field(min_length=1, max_length=50)
