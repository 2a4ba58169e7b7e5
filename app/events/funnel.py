"""A flow's funnel over a date range: sessions per step, drop-off, conversion, reasons."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

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
    dropped: int

    @property
    def drop_rate(self) -> float:
        return self.dropped / self.reached if self.reached else 0.0


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
    reached = [sum(1 for s in summaries if s["furthest_step_index"] >= i) for i in range(count)]
    booked = sum(1 for s in summaries if s["outcome"] == "booked")
    steps = [
        FunnelStep(
            step=step.type,
            title=step.title,
            reached=reached[i],
            dropped=reached[i] - (reached[i + 1] if i + 1 < count else booked),
        )
        for i, step in enumerate(flow.steps)
    ]
    ended = [
        s for s in summaries
        if s["outcome"] == "out_of_area" or (s["outcome"] == "open" and s["last_event_at"] < now - QUIET_BEFORE_ABANDONED)
    ]
    reasons = Counter(s["leave_reason"] for s in ended)
    return Funnel(
        flow_id=flow.id,
        flow_name=flow.name,
        start=start,
        end=end,
        sessions=len(summaries),
        booked=booked,
        still_open=sum(1 for s in summaries if s["outcome"] == "open") - len([s for s in ended if s["outcome"] == "open"]),
        steps=steps,
        reasons=[(code or "unknown", REASON_LABELS.get(code, code or ""), n) for code, n in reasons.most_common()],
    )


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
