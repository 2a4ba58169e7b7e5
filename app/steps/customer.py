"""Customer: who the visitor is and where the technician goes."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from app.domain.booking import Customer
from app.i18n import N_, gettext
from app.steps import returning
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
        shown = await self._view(ctx)
        kept = ctx.state.get(returning.STATE_KEY)
        places = returning.places_of(kept) if isinstance(kept, dict) else []
        return shown | {"places": places, "chosen": str(ctx.state.get("known_place") or "")}

    async def _view(self, ctx: StepContext) -> dict[str, Any]:
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
        typed = {name: form.text(name) for name in FIELDS}
        typed["state"] = typed["state"].upper()
        phone = normalize_phone(typed["phone"])
        email = normalize_email(typed["email"])
        place_id = form.text("known_place")[:10]
        looked_up = await returning.looked_up(ctx.db, ctx.session.id) if place_id else {}
        on_file = returning.chosen(looked_up, place_id, phone, email)
        # What the form shows again is what was typed (an address on file never goes into
        # it), and the places offered, masked, with the one chosen.
        offered = {returning.STATE_KEY: {"places": looked_up.get("places") or []}} if on_file else {}
        ctx.session.saved_state[ctx.step.id] = typed | offered | {"known_place": place_id if on_file else ""}
        values = typed | ({"street": on_file.street, "unit": on_file.unit, "city": on_file.city, "state": on_file.state.upper(),
                           "zip_code": on_file.zip_code[:5]} if on_file else {})
        errors: dict[str, str] = {}
        if place_id and on_file is None:
            errors["known_place"] = gettext("Choose one of the addresses again, or type the address.")
        for name, message in REQUIRED_MESSAGES.items():
            if not values[name]:
                errors[name] = gettext(message)
        for name, limit in LIMITS.items():
            if len(values[name]) > limit and name not in errors:
                errors[name] = gettext("Use at most %(limit)s characters.") % {"limit": limit}
        if phone is None:
            errors["phone"] = gettext(PHONE_MESSAGE)
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
        if on_file is not None:  # its address is not the visitor's to read: one message, on the choice
            for name in ("street", "unit", "city", "state", "zip_code"):
                if name in errors:
                    errors.pop(name)
                    errors["known_place"] = gettext("We can't book at that address online. Choose another, or type the address.")
        if errors:
            return StepResult(errors=errors)
        customer = Customer.from_document(values | {"phone": phone or "", "email": email or ""})
        ctx.session.booking.customer = replace(customer, on_file=on_file is not None)
        ctx.session.booking.known_place = on_file
        return StepResult(advance=True)
