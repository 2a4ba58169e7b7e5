"""Abandoned bookings become leads: a visitor who gave their contact details at the
Customer step and left without booking is someone the company can call back.

Each web process runs this in the background. It walks the sessions in the order they
went quiet (a watermark of (updated_at, session id) kept in MongoDB), and a session
quiet for the delay (ABANDONED_LEAD_MINUTES, 5) with a customer and no booking becomes a
lead: inserted under the session's id, so however many processes find it, it is made
once, and the company's people hear of it once. A visitor who comes back and books is
shown as booked in the console (the lead stays, for the record).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.db import Database
from app.domain.lead import Lead
from app.flows.models import Organization
from app.flows.repository import organization_by_slug
from app.polling import Poller

log = logging.getLogger(__name__)

WATERMARK = "abandoned_leads"

# Told of each lead made here (the office's notices).
LeadMade = Callable[[Organization, Lead, datetime], Awaitable[None]]


def lead_of(session: dict[str, Any], organization: Organization, now: datetime) -> Lead | None:
    draft = session.get("booking") or {}
    customer = draft.get("customer") or {}
    phone, email = customer.get("phone") or None, customer.get("email") or None
    if not (phone or email):
        return None
    street = ", ".join(p for p in (customer.get("street"), customer.get("unit")) if p)
    place = " ".join(p for p in (customer.get("city"), customer.get("state"), customer.get("zip_code")) if p)
    return Lead(
        id=str(session["_id"]), organization_id=organization.slug, flow_id=str(session.get("flow_id") or ""),
        reason="abandoned", created_at=now, phone=phone, email=email,
        name=" ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p),
        zip_code=customer.get("zip_code") or draft.get("zip_code"), address=", ".join(p for p in (street, place) if p),
        service=str((draft.get("service") or {}).get("name") or ""), last_step=str(session.get("current_step") or ""),
    )


class AbandonedLeads(Poller):
    name = "abandoned leads"

    def __init__(
        self, db: Database, clock: Callable[[], datetime], delay: timedelta, interval: float = 30.0,
        on_lead: LeadMade | None = None,
    ) -> None:
        super().__init__(clock, interval)
        self._db = db
        self._delay = delay
        self._on_lead = on_lead

    async def claim(self, now: datetime) -> dict[str, Any] | None:
        """The next session that went quiet after the watermark and before the delay: one
        that reached the Customer step and has no booking."""
        mark = await self._db.jobs.find_one({"_id": WATERMARK}) or {}
        after_id = mark.get("session_id", "")
        at = datetime.fromtimestamp(mark["at"], UTC) if isinstance(mark.get("at"), int | float) else None
        quiet: dict[str, Any] = {"$lte": now - self._delay}
        query: dict[str, Any] = {"updated_at": quiet, "booking.customer": {"$ne": None}, "booking_reference": None}
        if at is not None:
            query["$or"] = [{"updated_at": {"$gt": at}}, {"updated_at": at, "_id": {"$gt": after_id}}]
        return await self._db.sessions.find_one(query, sort=[("updated_at", 1), ("_id", 1)])

    async def handle(self, entry: dict[str, Any], now: datetime) -> None:
        organization = await organization_by_slug(self._db, str(entry.get("organization_id")))
        lead = lead_of(entry, organization, now) if organization is not None else None
        made = False
        if lead is not None:
            try:
                await self._db.leads.insert_one(lead.to_document())
                made = True
            except DuplicateKeyError:
                pass  # another process made it, or the visitor left another lead
        await self._advance(entry)
        if made and lead is not None and organization is not None:
            log.info("abandoned booking became a lead", extra={"session_id": lead.id, "organization": organization.slug})
            if self._on_lead is not None:
                await self._on_lead(organization, lead, now)

    async def _advance(self, entry: dict[str, Any]) -> None:
        """Move the watermark past `entry` (never back: another process may be further on)."""
        # Epoch seconds: a date set by $set is text in the embedded server, and compares with nothing.
        at, session_id = entry["updated_at"].timestamp(), entry["_id"]
        behind = {"$or": [{"at": {"$lt": at}}, {"at": at, "session_id": {"$lt": session_id}}]}
        moved = await self._db.jobs.update_one({"_id": WATERMARK, **behind}, {"$set": {"at": at, "session_id": session_id}})
        if moved.matched_count == 0 and await self._db.jobs.find_one({"_id": WATERMARK}) is None:
            try:
                await self._db.jobs.insert_one({"_id": WATERMARK, "at": at, "session_id": session_id})
            except DuplicateKeyError:
                pass  # another process started it: the next round moves it on
