"""Summary: everything chosen, a way to change each part, and "Confirm booking"."""

from __future__ import annotations

from typing import Any

from app.bookings.confirm import Confirmed, Incomplete, SlotTaken, confirm_booking, mark_booked
from app.i18n import gettext
from app.metrics import BOOKINGS
from app.steps.base import FormData, StepContext, StepHandler, StepResult


class SummaryStep(StepHandler):
    step_type = "Summary"
    template = "steps/summary.html"

    async def view(self, ctx: StepContext, query: dict[str, str]) -> dict[str, Any]:
        return {"draft": ctx.session.booking, "detail_fields": ctx.flow.additional_details}

    async def submit(self, ctx: StepContext, form: FormData) -> StepResult:
        photos = ctx.photos.files(ctx.now) if ctx.photos is not None else None
        outcome = await confirm_booking(ctx.db, ctx.flow, ctx.session, ctx.vendor, ctx.now, photos)
        BOOKINGS.labels(type(outcome).__name__.lower()).inc()
        match outcome:
            case Confirmed(booking):
                mark_booked(ctx.session, booking.reference)
                if ctx.photos is not None and booking.photos:  # kept with the booking, past the lifecycle rule
                    await ctx.photos.keep(booking.photos, booking.reference)
                if ctx.notifier is not None:
                    await ctx.notifier.booking_made(ctx.organization, booking, ctx.now)
                ctx.record(
                    "booking_confirmed", reference=booking.reference, service=booking.service.id,
                    date=booking.day.isoformat(), status=booking.status,
                )
                return StepResult(advance=True, booking=booking)
            case SlotTaken(message, alternatives):
                ctx.record("booking_failed", reason="slot_taken", alternatives=len(alternatives))
                ctx.session.booking.timeslot = None
                timeslot = ctx.session.state_of("Timeslot")
                timeslot["window"] = None
                if alternatives:  # the calendar opens on the nearest free day
                    nearest = alternatives[0].day
                    timeslot.update(date=nearest.isoformat(), month=f"{nearest.year:04d}-{nearest.month:02d}")
                return StepResult(goto="Timeslot", notice=gettext(message))
            case Incomplete(step_id, message):
                ctx.record("booking_failed", reason="incomplete", step=step_id)
                return StepResult(goto=step_id, notice=gettext(message))
        raise AssertionError(outcome)
