"""The company's leads: out of area, no free window, abandoned. Listed newest first by
status, searched like bookings, moved through new → contacted → booked / dropped by the
office (who and when is kept)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.console.inbox import PAGE_SIZE, literal_word, page_number, search_text
from app.db import Database
from app.domain.lead import LEAD_REASONS, LEAD_STATUSES, Lead


@dataclass(frozen=True)
class LeadFilter:
    status: str = "new"
    reason: str = ""
    search: str = ""
    page: int = 1

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> LeadFilter:
        status = (args.get("status") if "status" in args else "new") or ""
        reason = args.get("reason") or ""
        return cls(
            status=status if status in LEAD_STATUSES else "",
            reason=reason if reason in LEAD_REASONS else "",
            search=search_text(args),
            page=page_number(args),
        )

    def query(self, organization_id: str) -> dict[str, Any]:
        query: dict[str, Any] = {"organization_id": organization_id}
        if self.status == "new":
            query["status"] = {"$in": ["new", None]}  # leads stored before statuses were kept are new
        elif self.status:
            query["status"] = self.status
        if self.reason:
            query["reason"] = self.reason
        words = [w for w in self.search.split(" ") if w][:6]
        if words:
            query["$and"] = [literal_word(w, ("_id", "name", "email", "zip_code"), "phone") for w in words]
        return query

    def as_query_string(self, **changes: object) -> dict[str, str]:
        values = {"status": self.status, "reason": self.reason, "q": self.search, "page": str(self.page)}
        values |= {k: str(v) for k, v in changes.items()}
        # "status" is kept even when empty: no status means every lead, not the new ones.
        return {k: v for k, v in values.items() if k == "status" or (v and not (k == "page" and v == "1"))}


@dataclass(frozen=True)
class LeadRow:
    lead: Lead
    booked_since: str | None  # the reference, when the visitor came back and booked


@dataclass(frozen=True)
class LeadPage:
    rows: list[LeadRow]
    total: int
    filter: LeadFilter

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


async def list_leads(db: Database, organization_id: str, wanted: LeadFilter) -> LeadPage:
    query = wanted.query(organization_id)
    total = await db.leads.count_documents(query)
    cursor = db.leads.find(query).sort([("created_at", -1), ("_id", -1)]).skip((wanted.page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    leads = [Lead.from_document(doc) async for doc in cursor]
    booked = {
        str(doc["session_id"]): str(doc["_id"])
        async for doc in db.bookings.find({"session_id": {"$in": [lead.id for lead in leads]}}, {"session_id": 1})
    }
    return LeadPage([LeadRow(lead, booked.get(lead.id)) for lead in leads], total, wanted)


async def lead_counts(db: Database, organization_id: str) -> dict[str, int]:
    found = dict.fromkeys(LEAD_STATUSES, 0)
    async for row in await db.leads.aggregate([
        {"$match": {"organization_id": organization_id}}, {"$group": {"_id": "$status", "n": {"$sum": 1}}},
    ]):
        key = row["_id"] if row["_id"] in found else "new"
        found[key] += int(row["n"])
    return found


async def set_status(db: Database, organization_id: str, lead_id: str, status: str, person: str, now: datetime) -> bool:
    """Move the organization's lead `lead_id` to `status`; False when there is no such lead."""
    if status not in LEAD_STATUSES:
        raise ValueError("Choose a status from the list.")
    result = await db.leads.update_one(
        {"_id": lead_id[:100], "organization_id": organization_id},
        {"$set": {"status": status, "status_changed_at": now.timestamp(), "status_changed_by": person}},
    )
    return result.matched_count == 1
