"""A visitor who cannot book (outside the area, or no free window) leaves a phone number
or an email; the lead is stored, and passed on to a vendor that takes leads."""

from __future__ import annotations

from app.bookings import outbox
from app.domain.lead import Lead
from app.i18n import N_, gettext
from app.steps.base import FormData, StepContext, StepResult
from app.steps.contact import EMAIL_MESSAGE, PHONE_MESSAGE, normalize_email, normalize_phone

REACH_MESSAGE = N_("Leave a phone number or an email address so we can reach you.")


async def save_lead(ctx: StepContext, form: FormData, reason: str, zip_code: str | None) -> StepResult:
    """Check the lead form on the current step and store it; the step shows "Thanks"."""
    phone_text, email_text = form.text("lead_phone"), form.text("lead_email")
    ctx.state.update(lead_phone=phone_text, lead_email=email_text)
    errors: dict[str, str] = {}
    phone = normalize_phone(phone_text) if phone_text else None
    email = normalize_email(email_text) if email_text else None
    if phone_text and phone is None:
        errors["lead_phone"] = gettext(PHONE_MESSAGE)
    if email_text and email is None:
        errors["lead_email"] = gettext(EMAIL_MESSAGE)
    if not phone_text and not email_text:
        errors["lead_phone"] = gettext(REACH_MESSAGE)
    if errors:
        return StepResult(errors=errors)
    lead = Lead(
        id=ctx.session.id, organization_id=ctx.organization.slug, flow_id=ctx.flow.id, reason=reason, created_at=ctx.now,
        phone=phone, email=email, zip_code=zip_code, last_step=ctx.session.current_step,
        vendor={"type": ctx.vendor.vendor_type, "external_id": None} if ctx.vendor.takes_leads else {},
    )
    first = await ctx.db.leads.find_one_and_replace({"_id": ctx.session.id}, lead.to_document(), upsert=True) is None
    if ctx.vendor.takes_leads:
        # Saved first; the outbox passes it on to the company's system, retrying as needed.
        await outbox.enqueue(ctx.db, "lead", ctx.session.id, ctx.organization.slug, ctx.now)
    ctx.state["lead_saved"] = True
    ctx.record("lead_left", reason=reason)
    if first and ctx.notifier is not None:
        await ctx.notifier.lead_made(ctx.organization, lead, ctx.now)
    return StepResult()
