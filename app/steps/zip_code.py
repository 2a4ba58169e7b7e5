"""ZipCode: is the address in the service area (the flow's, then the vendor's)? If not,
the visitor can leave a lead."""

from __future__ import annotations

import logging
import re
from typing import Any

from app.i18n import N_, gettext
from app.steps.base import FormData, StepContext, StepHandler, StepResult
from app.steps.leads import save_lead
from app.vendors.base import VendorError

log = logging.getLogger(__name__)

ZIP_MESSAGE = N_("Enter a 5-digit ZIP code.")


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
            return await save_lead(ctx, form, "out of area", ctx.state.get("zip_code"))
        zip_code = form.text("zip_code")
        ctx.session.saved_state[ctx.step.id] = {"zip_code": zip_code}
        if not is_zip_code(zip_code):
            return StepResult(errors={"zip_code": gettext(ZIP_MESSAGE)})
        area = ctx.flow.service_area
        if (area is not None and zip_code not in area.zip_codes) or await vendor_declines(ctx, zip_code):
            ctx.state["out_of_area"] = True
            ctx.session.status = "out_of_area"
            ctx.record("out_of_area", zip_code=zip_code)
            return StepResult()
        ctx.session.status = "active"
        ctx.session.booking.zip_code = zip_code
        return StepResult(advance=True)


async def vendor_declines(ctx: StepContext, zip_code: str) -> bool:
    """The vendor's own service area says no; a vendor that can't answer now doesn't block."""
    try:
        return await ctx.vendor.serves_zip(zip_code) is False
    except VendorError as exc:
        log.warning("service area check skipped", extra={"vendor": exc.vendor, "problem": exc.message})
        return False
