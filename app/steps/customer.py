"""Customer: who the visitor is and where the technician goes."""

from __future__ import annotations

import re
from typing import Any

from app.domain.booking import Customer
from app.i18n import N_, gettext
from app.steps.base import FormData, StepContext, StepHandler, StepResult
from app.steps.contact import EMAIL_MESSAGE, PHONE_MESSAGE, normalize_email, normalize_phone
from app.steps.places import place_of, states
from app.steps.zip_code import ZIP_MESSAGE, is_zip_code, vendor_declines

FIELDS = Customer.FIELDS
REQUIRED_MESSAGES = {
    "first_name": N_("Enter your first name."),
    "last_name": N_("Enter your last name."),
    "street": N_("Enter the street address."),
    "city": N_("Enter the city."),
}
LIMITS = {"first_name": 100, "last_name": 100, "street": 200, "unit": 50, "city": 100}


class CustomerStep(StepHandler):
    step_type = "Customer"
    template = "steps/customer.html"

    async def view(self, ctx: StepContext, query: dict[str, str]) -> dict[str, Any]:
        if "zip_code" not in ctx.state and ctx.session.booking.zip_code:
            ctx.state["zip_code"] = ctx.session.booking.zip_code
        # City and State from the ZIP the visitor gave (they may change the city: a ZIP
        # spans several); never over what they typed.
        place = place_of(str(ctx.state.get("zip_code") or ""))
        if place is not None:
            if not ctx.state.get("city"):
                ctx.state["city"] = place.city
            if not ctx.state.get("state"):
                ctx.state["state"] = place.state
        return {}

    async def submit(self, ctx: StepContext, form: FormData) -> StepResult:
        values = {name: form.text(name) for name in FIELDS}
        values["state"] = values["state"].upper()
        ctx.session.saved_state[ctx.step.id] = values
        errors: dict[str, str] = {}
        for name, message in REQUIRED_MESSAGES.items():
            if not values[name]:
                errors[name] = gettext(message)
        for name, limit in LIMITS.items():
            if len(values[name]) > limit and name not in errors:
                errors[name] = gettext("Use at most %(limit)s characters.") % {"limit": limit}
        phone = normalize_phone(values["phone"])
        if phone is None:
            errors["phone"] = gettext(PHONE_MESSAGE)
        email = normalize_email(values["email"])
        if email is None:
            errors["email"] = gettext(EMAIL_MESSAGE)
        place = place_of(values["zip_code"]) if is_zip_code(values["zip_code"]) else None
        if not re.fullmatch(r"[A-Z]{2}", values["state"]) or values["state"] not in states():
            errors["state"] = gettext("Enter the 2-letter state code, like TX.")
        elif place is not None and values["state"] != place.state:
            errors["state"] = gettext("ZIP code %(zip)s is in %(state)s.") % {"zip": values["zip_code"], "state": place.state}
        area = ctx.flow.service_area
        # A flow without a ZIP step (commercial) meets the service area here, vendor's included.
        asked_before = any(step.type == "ZipCode" for step in ctx.flow.steps)
        if not is_zip_code(values["zip_code"]):
            errors["zip_code"] = gettext(ZIP_MESSAGE)
        elif (area is not None and values["zip_code"] not in area.zip_codes) or (
            not asked_before and await vendor_declines(ctx, values["zip_code"])
        ):
            errors["zip_code"] = gettext("We don't serve ZIP code %(zip)s. Check the service address.") % {"zip": values["zip_code"]}
        if errors:
            return StepResult(errors=errors)
        ctx.session.booking.customer = Customer.from_document(values | {"phone": phone or "", "email": email or ""})
        return StepResult(advance=True)
