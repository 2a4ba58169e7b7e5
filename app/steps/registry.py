"""Step type → handler."""

from __future__ import annotations

from app.flows.models import StepType
from app.steps.additional_details import AdditionalDetailsStep
from app.steps.base import StepHandler
from app.steps.customer import CustomerStep
from app.steps.service_selection import ServiceSelectionStep
from app.steps.summary import SummaryStep
from app.steps.timeslot import TimeslotStep
from app.steps.zip_code import ZipCodeStep

STEP_HANDLERS: dict[StepType, StepHandler] = {
    handler.step_type: handler
    for handler in (
        ZipCodeStep(),
        ServiceSelectionStep(),
        AdditionalDetailsStep(),
        TimeslotStep(),
        CustomerStep(),
        SummaryStep(),
    )
}


def handler_for(step_type: StepType) -> StepHandler:
    return STEP_HANDLERS[step_type]
