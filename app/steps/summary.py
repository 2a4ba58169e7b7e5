"""Summary: everything chosen, a way to change each part, and "Confirm booking"."""

from __future__ import annotations

from typing import Any

from app.bookings.confirm import Confirmed, Incomplete, SlotTaken, confirm_booking, mark_booked
from app.metrics import BOOKINGS
from app.steps.base import FormData, StepContext, StepHandler, StepResult


class SummaryStep(StepHandler):
    step_type = "Summary"
    template = "steps/summary.html"

    async def view(self, ctx: StepContext, query: dict[str, str]) -> dict[str, Any]:
        return {"draft": ctx.session.booking, "detail_fields": ctx.flow.additional_details}

    async def submit(self, ctx: StepContext, form: FormData) -> StepResult:
        outcome = await confirm_booking(ctx.db, ctx.flow, ctx.session, ctx.vendor, ctx.now)
        BOOKINGS.labels(type(outcome).__name__.lower()).inc()
        match outcome:
            case Confirmed(booking):
                mark_booked(ctx.session, booking)
                ctx.record("booking_confirmed", reference=booking["_id"], service=booking["service"]["id"], date=booking["date"])
                return StepResult(advance=True)
            case SlotTaken(message):
                ctx.record("booking_failed", reason="slot_taken")
                ctx.session.booking.timeslot = None
                ctx.session.state_of("Timeslot")["window"] = None
                return StepResult(goto="Timeslot", notice=message)
            case Incomplete(step_id, message):
                ctx.record("booking_failed", reason="incomplete", step=step_id)
                return StepResult(goto=step_id, notice=message)
        raise AssertionError(outcome)
