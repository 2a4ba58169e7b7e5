"""Request and response models of the JSON API (they also generate /openapi.json)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from app.web.protocol import KEY_HEADER, SESSION_HEADER


class KeyHeaders(BaseModel):
    x_scheduler_key: str = Field(description=f"The organization's publishable key ({KEY_HEADER}).")


class SessionHeaders(KeyHeaders):
    x_scheduler_session: str = Field(description=f"The booking session token ({SESSION_HEADER}).")


class ResolveRequest(BaseModel):
    url: str = Field(min_length=1, max_length=2000, description="The URL of the page the widget runs on.")
    locale: str | None = Field(
        default=None, max_length=35,
        description="The language the page asks for (data-wrkbelt-locale: en, es, es-US…); else the browser's"
        " Accept-Language, else the organization's default.",
    )


class StepSummary(BaseModel):
    type: str
    title: str


class Company(BaseModel):
    """Who the visitor is booking with, for the widget's title bar."""

    name: str
    logo_url: str | None = None
    phone: str | None = Field(default=None, description="As written for people: (512) 555-0100.")
    phone_href: str | None = Field(default=None, description="The same as a tel: link.")


class FrameTexts(BaseModel):
    """The widget's own words around the steps, in the visitor's language."""

    title: str
    close: str
    call: str
    offline_title: str
    offline_message: str
    try_again: str


class ResolveResponse(BaseModel):
    flow_id: str
    flow_name: str
    steps: list[StepSummary]
    theme: dict[str, str] = Field(description="CSS custom properties to set on the widget's root.")
    locale: str = Field(description="The visitor's locale (en_US, es_US): send it back when starting a session.")
    company: Company
    texts: FrameTexts


class ButtonTrigger(BaseModel):
    selector: str
    flow_id: str | None = None


class ButtonTriggersResponse(BaseModel):
    triggers: list[ButtonTrigger]


class ScopeQuery(BaseModel):
    """What a remote vendor's availability depends on; the built-in calendar ignores it."""

    service: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="A service id of the flow")
    duration_minutes: int = Field(default=60, ge=15, le=24 * 60, description="How long the service takes")
    zip_code: str | None = Field(default=None, pattern=r"^\d{5}$", description="The service address's ZIP code")


class MonthQuery(ScopeQuery):
    # Years this century: calendars are for booking, and year 0 or 9999 only break date maths.
    month: str = Field(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM, from 2000-01 to 2099-12")


class DayAvailability(BaseModel):
    date: date
    available: bool
    remaining: int


class MonthAvailabilityResponse(BaseModel):
    month: str
    days: list[DayAvailability]


Day = date  # inside DateQuery, `date` names the field


class DateQuery(ScopeQuery):
    date: date

    @field_validator("date")
    @classmethod
    def _this_century(cls, value: Day) -> Day:
        if not 2000 <= value.year <= 2099:
            raise ValueError("must be a date from 2000-01-01 to 2099-12-31")
        return value


class Timeslot(BaseModel):
    window_id: str
    label: str
    start: str
    end: str
    remaining: int
    available: bool


class DateTimeslotsResponse(BaseModel):
    date: date
    timeslots: list[Timeslot]


class BookingResponse(BaseModel):
    reference: str
    status: str
    date: date
    window: Timeslot | dict[str, str]
    service: dict[str, str | int]


class FieldProblem(BaseModel):
    field: str
    message: str


class ApiError(BaseModel):
    error: str = Field(description="A stable code, such as unknown_key or slot_taken.")
    message: str
    fields: list[FieldProblem] = Field(default_factory=list)
