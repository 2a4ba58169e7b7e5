"""ZipCode: is the address in the service area? If not, the visitor can leave a lead."""

from __future__ import annotations

import logging
import re
from typing import Any

from app.bookings import outbox
from app.steps.base import FormData, StepContext, StepHandler, StepResult
from app.steps.contact import EMAIL_MESSAGE, PHONE_MESSAGE, normalize_email, normalize_phone
from app.vendors.base import VendorError

log = logging.getLogger(__name__)

ZIP_MESSAGE = "Enter a 5-digit ZIP code."


def is_zip_code(text: str) -> bool:
    return re.fullmatch(r"\d{5}", text) is not None


class ZipCodeStep(StepHandler):
    step_type = "ZipCode"
    template = "steps/zip_code.html"

    async def view(self, ctx: StepContext, query: dict[str, str]) -> dict[str, Any]:
        area = ctx.flow.service_area
        return {"out_of_area_message": area.out_of_area_message if area else ""}

    async def submit(self, ctx: StepContext, form: FormData) -> StepResult:
        if form.text("intent") == "lead":
            return await self._save_lead(ctx, form)
        zip_code = form.text("zip_code")
        ctx.session.saved_state[ctx.step.id] = {"zip_code": zip_code}
        if not is_zip_code(zip_code):
            return StepResult(errors={"zip_code": ZIP_MESSAGE})
        area = ctx.flow.service_area
        if (area is not None and zip_code not in area.zip_codes) or await self._vendor_declines(ctx, zip_code):
            ctx.state["out_of_area"] = True
            ctx.session.status = "out_of_area"
            ctx.record("out_of_area", zip_code=zip_code)
            return StepResult()
        ctx.session.status = "active"
        ctx.session.booking.zip_code = zip_code
        return StepResult(advance=True)

    async def _vendor_declines(self, ctx: StepContext, zip_code: str) -> bool:
        """The vendor's own service area says no; a vendor that can't answer now doesn't block."""
        try:
            return await ctx.vendor.serves_zip(zip_code) is False
        except VendorError as exc:
            log.warning("service area check skipped", extra={"vendor": exc.vendor, "problem": exc.message})
            return False

    async def _save_lead(self, ctx: StepContext, form: FormData) -> StepResult:
        phone_text, email_text = form.text("lead_phone"), form.text("lead_email")
        ctx.state.update(lead_phone=phone_text, lead_email=email_text)
        errors: dict[str, str] = {}
        phone = normalize_phone(phone_text) if phone_text else None
        email = normalize_email(email_text) if email_text else None
        if phone_text and phone is None:
            errors["lead_phone"] = PHONE_MESSAGE
        if email_text and email is None:
            errors["lead_email"] = EMAIL_MESSAGE
        if not phone_text and not email_text:
            errors["lead_phone"] = "Leave a phone number or an email address so we can reach you."
        if errors:
            return StepResult(errors=errors)
        lead = {
            "_id": ctx.session.id,
            "organization_id": ctx.organization.slug,
            "flow_id": ctx.flow.id,
            "zip_code": ctx.state.get("zip_code"),
            "phone": phone,
            "email": email,
            "created_at": ctx.now,
        }
        if ctx.vendor.takes_leads:
            lead["vendor"] = {"type": ctx.vendor.vendor_type, "external_id": None}
        await ctx.db.leads.replace_one({"_id": ctx.session.id}, lead, upsert=True)
        if ctx.vendor.takes_leads:
            # Saved first; the outbox passes it on to the company's system, retrying as needed.
            await outbox.enqueue(ctx.db, "lead", ctx.session.id, ctx.organization.slug, ctx.now)
        ctx.state["lead_saved"] = True
        return StepResult()
