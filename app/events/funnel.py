"""A flow's funnel over a date range: sessions per step, drop-off, conversion, reasons,
and bookings by where the visitor came from.

Every session is counted once, as one of: booked; left (outside the area, or quiet for
30 minutes without booking); or still in progress. The steps, the reasons and the totals
all use these same three, so the page never says both "14 still open" and "nobody left".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from app.db import Database
from app.flows.models import Flow, Organization

# A session with no event for this long, and no booking, has been abandoned.
QUIET_BEFORE_ABANDONED = timedelta(minutes=30)
REASON_LABELS = {
    "out_of_area": "Outside the service area",
    "no_slot": "No arrival window that suited",
    "validation_error": "Stopped at a form error",
    None: "Left without a reason we could see",
}


@dataclass(frozen=True)
class FunnelStep:
    step: str
    title: str
    reached: int
    dropped: int  # left the booking here (ended without booking, this their furthest step)
    in_progress: int = 0  # still on this step (active within the last 30 minutes)

    @property
    def drop_rate(self) -> float:
        return self.dropped / self.reached if self.reached else 0.0


@dataclass(frozen=True)
class SourceRow:
    """Bookings from one utm_source and campaign ("direct": none given)."""

    source: str
    campaign: str
    bookings: int
    with_gclid: int


@dataclass(frozen=True)
class Funnel:
    flow_id: str
    flow_name: str
    start: date
    end: date
    sessions: int
    booked: int
    still_open: int
    steps: list[FunnelStep]
    reasons: list[tuple[str, str, int]]  # (code, label, sessions)
    sources: list[SourceRow] = field(default_factory=list)

    @property
    def left(self) -> int:
        return self.sessions - self.booked - self.still_open

    @property
    def conversion(self) -> float:
        return self.booked / self.sessions if self.sessions else 0.0


async def funnel(db: Database, organization: Organization, flow: Flow, start: date, end: date, now: datetime) -> Funnel:
    zone = organization.zone
    since = datetime.combine(start, time(0), tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone)
    summaries = await db.session_summaries.find(
        {"organization_id": organization.slug, "flow_id": flow.id, "started_at": {"$gte": since, "$lt": until}}
    ).to_list()
    count = len(flow.steps)
    quiet_since = now - QUIET_BEFORE_ABANDONED

    def ended(s: dict[str, Any]) -> bool:
        return bool(s["outcome"] == "out_of_area" or (s["outcome"] == "open" and s["last_event_at"] < quiet_since))

    def furthest(s: dict[str, Any]) -> int:
        return min(max(int(s["furthest_step_index"]), 0), count - 1)

    left = [s for s in summaries if ended(s)]
    open_now = [s for s in summaries if s["outcome"] == "open" and not ended(s)]
    reached = [sum(1 for s in summaries if s["furthest_step_index"] >= i) for i in range(count)]
    left_at, open_at = Counter(furthest(s) for s in left), Counter(furthest(s) for s in open_now)
    steps = [
        FunnelStep(step=step.type, title=step.title, reached=reached[i], dropped=left_at[i], in_progress=open_at[i])
        for i, step in enumerate(flow.steps)
    ]
    reasons = Counter(s["leave_reason"] for s in left)
    return Funnel(
        flow_id=flow.id,
        flow_name=flow.name,
        start=start,
        end=end,
        sessions=len(summaries),
        booked=sum(1 for s in summaries if s["outcome"] == "booked"),
        still_open=len(open_now),
        steps=steps,
        reasons=[(code or "unknown", REASON_LABELS.get(code, code or ""), n) for code, n in reasons.most_common()],
        sources=await bookings_by_source(db, organization.slug, flow.id, since, until),
    )


async def bookings_by_source(db: Database, organization_id: str, flow_id: str, since: datetime, until: datetime) -> list[SourceRow]:
    rows: Counter[tuple[str, str]] = Counter()
    clicks: Counter[tuple[str, str]] = Counter()
    query = {"organization_id": organization_id, "flow_id": flow_id, "created_at": {"$gte": since, "$lt": until}}
    async for doc in db.bookings.find(query, {"attribution": 1}):
        attribution = doc.get("attribution") or {}
        key = (str(attribution.get("utm_source") or "direct"), str(attribution.get("utm_campaign") or ""))
        rows[key] += 1
        clicks[key] += 1 if attribution.get("gclid") else 0
    return [SourceRow(source, campaign, n, clicks[(source, campaign)]) for (source, campaign), n in rows.most_common()]


DEFAULT_DAYS = 30
MAX_DAYS = 366
# Sessions exist in no other years; a date outside them is a typing mistake (or an attack
# on date arithmetic: 9999-12-31 has no next day).
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def date_range(start: date | None, end: date | None, organization: Organization, now: datetime) -> tuple[date, date]:
    """The range asked for (default: the last 30 days, in the organization's time zone)."""
    today = now.astimezone(organization.zone).date()
    for given in (start, end):
        if given is not None and not EARLIEST <= given <= LATEST:
            raise ValueError(f"{given} is out of range: ask for dates from {EARLIEST} to {LATEST}")
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValueError("the start date is after the end date")
    if (end - start).days >= MAX_DAYS:
        raise ValueError(f"ask for at most {MAX_DAYS} days at a time")
    return start, end
