"""A lead: someone the company can call back who did not book. Typed, with its one
mapping to and from MongoDB (keyed by the visitor's session: one lead per session).

Why: outside the service area, no free window in the calendar, or abandoned (they gave
their contact details at the Customer step and left without booking). The office moves a
lead through its statuses as it calls: new → contacted → booked or dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

LeadReason = Literal["out of area", "no free arrival window", "abandoned"]
LeadStatus = Literal["new", "contacted", "booked", "dropped"]
LEAD_STATUSES: tuple[str, ...] = get_args(LeadStatus)
LEAD_REASONS: tuple[str, ...] = get_args(LeadReason)


def _moment(value: Any) -> datetime | None:
    """A time set after the lead was stored: epoch seconds (see app/console/leads.py)."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return value if isinstance(value, datetime) else None


@dataclass(frozen=True)
class Lead:
    id: str  # the visitor's session
    organization_id: str
    flow_id: str
    reason: str
    created_at: datetime
    phone: str | None = None
    email: str | None = None
    name: str = ""
    zip_code: str | None = None
    address: str = ""
    service: str = ""  # what they were booking, when they got that far
    last_step: str = ""
    status: LeadStatus = "new"
    status_changed_at: datetime | None = None
    status_changed_by: str | None = None
    vendor: Mapping[str, Any] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": self.id, "organization_id": self.organization_id, "flow_id": self.flow_id, "reason": self.reason,
            "created_at": self.created_at, "phone": self.phone, "email": self.email, "name": self.name,
            "zip_code": self.zip_code, "address": self.address, "service": self.service, "last_step": self.last_step,
            "status": self.status, "status_changed_by": self.status_changed_by,
            "status_changed_at": self.status_changed_at.timestamp() if self.status_changed_at else None,
            **({"vendor": dict(self.vendor)} if self.vendor else {}),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Lead:
        status = doc.get("status")
        return cls(
            id=str(doc["_id"]), organization_id=str(doc["organization_id"]), flow_id=str(doc.get("flow_id") or ""),
            reason=str(doc.get("reason") or ""), created_at=doc["created_at"], phone=doc.get("phone"),
            email=doc.get("email"), name=str(doc.get("name") or ""), zip_code=doc.get("zip_code"),
            address=str(doc.get("address") or ""), service=str(doc.get("service") or ""),
            last_step=str(doc.get("last_step") or ""),
            status=status if status in LEAD_STATUSES else "new",
            status_changed_at=_moment(doc.get("status_changed_at")), status_changed_by=doc.get("status_changed_by"),
            vendor=dict(doc.get("vendor") or {}),
        )
