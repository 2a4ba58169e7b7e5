"""AdditionalDetails: the flow's own questions about the job."""

from __future__ import annotations

from typing import Any

from app.flows.models import DetailField
from app.i18n import company_text, gettext
from app.steps.base import FormData, StepContext, StepHandler, StepResult


def field_input_name(field: DetailField) -> str:
    return f"detail-{field.name}"


class AdditionalDetailsStep(StepHandler):
    step_type = "AdditionalDetails"
    template = "steps/additional_details.html"

    async def view(self, ctx: StepContext, query: dict[str, str]) -> dict[str, Any]:
        asked = ctx.photo_request
        photos = await ctx.photos.of_session(ctx.session.id) if asked is not None and ctx.photos is not None else []
        return {"fields": ctx.flow.additional_details, "input_name": field_input_name, "photo_request": asked, "photos": photos}

    async def submit(self, ctx: StepContext, form: FormData) -> StepResult:
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for field in ctx.flow.additional_details:
            name = field_input_name(field)
            if field.kind == "checkbox":
                values[field.name] = form.flag(name)
                if field.required and not values[field.name]:
                    errors[name] = gettext("Please confirm: %(label)s.") % {"label": company_text(field.label)}
                continue
            value = form.text(name)
            values[field.name] = value
            if field.required and not value:
                errors[name] = gettext("Please choose one.") if field.kind == "select" else gettext("Please fill this in.")
            elif len(value) > field.max_length:
                errors[name] = gettext("%(label)s must be at most %(limit)s characters (it has %(count)s).") % {
                    "label": company_text(field.label), "limit": field.max_length, "count": len(value)}
            elif field.kind == "select" and value and value not in field.options:
                errors[name] = gettext("Choose one of the options for %(label)s.") % {"label": str(company_text(field.label)).lower()}
        ctx.session.saved_state[ctx.step.id] = values
        asked = ctx.photo_request
        photos = await ctx.photos.of_session(ctx.session.id) if asked is not None and ctx.photos is not None else []
        if asked is not None and asked.required and not photos:
            errors["photos"] = gettext("Add at least one photo of the problem.")
        if errors:
            return StepResult(errors=errors)
        ctx.session.booking.details = values
        ctx.session.booking.photos = photos
        return StepResult(advance=True)
