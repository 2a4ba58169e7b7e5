"""The configuration of an organization and its booking flows, as companies write it in YAML.

Structural rules live on the models; rules that relate one part to another (an answer
that leads to a question that does not exist) are checked in `references.py` so each
error can name its exact path.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import TYPE_CHECKING, Annotated, Literal

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    SecretStr,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

StepType = Literal["ZipCode", "ServiceSelection", "AdditionalDetails", "Timeslot", "Customer", "Summary"]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
ZipCode = Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
CssColor = Annotated[str, StringConstraints(pattern=r"^#(?:[0-9a-fA-F]{3}){1,2}$")]
CssLength = Annotated[str, StringConstraints(pattern=r"^(?:0|\d{1,3}(?:\.\d+)?(?:px|rem|em))$")]
FontFamily = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ,'\"-]{1,200}$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepConfig(Model):
    """One step of a flow: its type and the texts the visitor reads."""

    type: StepType
    title: Text
    intro: Text | None = None

    @property
    def id(self) -> str:
        return self.type


class ServiceArea(Model):
    zip_codes: list[ZipCode] = Field(min_length=1)
    out_of_area_message: Text = (
        "Sorry, we don't serve that area yet. Leave your phone number or email and we'll "
        "let you know when we do."
    )


class Service(Model):
    id: Identifier
    name: Text
    description: Text | None = None
    duration_minutes: int = Field(default=60, ge=15, le=24 * 60)


class Answer(Model):
    """A choice; it leads either to another question or to a service."""

    id: Identifier
    label: Text
    question: Identifier | None = None
    service: Identifier | None = None

    @model_validator(mode="after")
    def _exactly_one_target(self) -> Answer:
        if (self.question is None) == (self.service is None):
            raise ValueError("an answer leads to exactly one of 'question' or 'service'")
        return self


class Question(Model):
    id: Identifier
    prompt: Text
    answers: list[Answer] = Field(min_length=1)


class ServiceGraph(Model):
    start: Identifier
    questions: list[Question] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)

    def service(self, service_id: str) -> Service:
        return next(s for s in self.services if s.id == service_id)


class DetailField(Model):
    """A question on the AdditionalDetails step."""

    name: Identifier
    label: Text
    kind: Literal["text", "textarea", "select", "checkbox"] = "text"
    required: bool = False
    options: list[Text] = Field(default_factory=list)
    max_length: int = Field(default=500, ge=1, le=5000)
    help: Text | None = None


class Theme(Model):
    """Colours, font and radius; applied as CSS custom properties."""

    primary_color: CssColor = "#1d4ed8"
    primary_text_color: CssColor = "#ffffff"
    text_color: CssColor = "#111827"
    background_color: CssColor = "#ffffff"
    muted_color: CssColor = "#6b7280"
    error_color: CssColor = "#b91c1c"
    font_family: FontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
    radius: CssLength = "8px"

    def css_variables(self) -> dict[str, str]:
        return {
            "--wb-primary": self.primary_color,
            "--wb-on-primary": self.primary_text_color,
            "--wb-text": self.text_color,
            "--wb-background": self.background_color,
            "--wb-muted": self.muted_color,
            "--wb-error": self.error_color,
            "--wb-font": self.font_family,
            "--wb-radius": self.radius,
        }


class Flow(Model):
    id: Identifier
    name: Text
    steps: list[StepConfig] = Field(min_length=1)
    service_area: ServiceArea | None = None
    service_graph: ServiceGraph
    additional_details: list[DetailField] = Field(default_factory=list)
    theme: Theme = Theme()

    def step(self, step_id: str) -> StepConfig | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def step_ids(self) -> list[str]:
        return [s.id for s in self.steps]


class RoutingRule(Model):
    """Pages whose path matches `path` (a glob: `/commercial/*`) get `flow`."""

    path: Annotated[str, StringConstraints(pattern=r"^/[^\s]*$", max_length=300)]
    flow: Identifier

    def matches(self, path: str) -> bool:
        pattern = "^" + re.escape(self.path).replace(r"\*", ".*") + "$"
        return re.match(pattern, path) is not None


class Routing(Model):
    default_flow: Identifier
    rules: list[RoutingRule] = Field(default_factory=list)

    def flow_for_path(self, path: str) -> str:
        return next((r.flow for r in self.rules if r.matches(path)), self.default_flow)


class ButtonTrigger(Model):
    """Elements of the host page that open the widget; `flow` overrides URL routing."""

    selector: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    flow: Identifier | None = None


class ArrivalWindowConfig(Model):
    id: Identifier
    label: Text
    start: time
    end: time
    capacity: int = Field(ge=0, le=1000)


class LocalCalendar(Model):
    """The built-in vendor's calendar rules."""

    windows: list[ArrivalWindowConfig] = Field(min_length=1)
    closed_weekdays: list[Weekday] = Field(default_factory=list)
    closed_dates: list[date] = Field(default_factory=list)
    minimum_notice_hours: int = Field(default=2, ge=0, le=24 * 30)
    horizon_days: int = Field(default=60, ge=1, le=366)
    hold_minutes: float = Field(default=10, ge=0, le=120)


class LocalVendor(Model):
    """The built-in calendar: capacity per arrival window, kept in our database."""

    type: Literal["local"] = "local"
    calendar: LocalCalendar


MASKED_SECRET = "**********"


def _reveal(secret: SecretStr) -> str:
    return secret.get_secret_value()


def _not_masked(secret: SecretStr) -> SecretStr:
    if secret.get_secret_value() == MASKED_SECRET:
        raise ValueError("this secret was masked by `flows export`: write the secret, or env:NAME to read it from the environment")
    return secret


ENV_PREFIX = "env:"


def env_variable(secret: SecretStr) -> str | None:
    """The environment variable a credential names (`env:NAME`); None when it is the secret itself."""
    value = secret.get_secret_value()
    return value[len(ENV_PREFIX):] if value.startswith(ENV_PREFIX) else None


def secret_fields(model: BaseModel) -> list[str]:
    """The names of a model's credential fields."""
    return [name for name, field in type(model).model_fields.items() if field.annotation is SecretStr]


# A secret from the YAML: either the value itself or `env:NAME`, read from the process's
# environment when it is used. It prints as `**********`; only the database sees it.
Credential = Annotated[
    SecretStr,
    StringConstraints(min_length=1, max_length=4096),
    AfterValidator(_not_masked),
    PlainSerializer(_reveal, return_type=str),
]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(:\d{1,5})?(/[^\s]*)?$", max_length=300)]


class RemoteVendor(Model):
    """What every field-service system's client shares: time-outs, pacing, caching."""

    timeout_seconds: float = Field(default=10, gt=0, le=60)
    requests_per_second: float = Field(default=5, gt=0, le=100)
    availability_cache_seconds: int = Field(default=60, ge=0, le=900)


class ServiceTitanVendor(RemoteVendor):
    type: Literal["servicetitan"]
    api_url: HttpsUrl = "https://api.servicetitan.io"
    auth_url: HttpsUrl = "https://auth.servicetitan.io"
    tenant: int = Field(gt=0)
    client_id: Credential
    client_secret: Credential
    app_key: Credential
    # "crm": a booking in the call-booking screen that a CSR turns into a job;
    # "job": the job itself, with an appointment in the chosen arrival window.
    booking_mode: Literal["crm", "job"] = "crm"
    booking_provider_id: int | None = Field(default=None, gt=0)
    campaign_id: int = Field(gt=0)
    # Our service id -> ServiceTitan job type id; services not listed use the default.
    job_types: dict[Identifier, Annotated[int, Field(gt=0)]] = Field(default_factory=dict)
    default_job_type_id: int = Field(gt=0)
    # Used when no dispatch zone names the visitor's ZIP code's business units.
    business_unit_ids: list[Annotated[int, Field(gt=0)]] = Field(default_factory=list)
    skill_based_availability: bool = False
    # How many days of capacity one request asks for (ServiceTitan allows up to 14).
    capacity_chunk_days: int = Field(default=14, ge=1, le=14)

    @model_validator(mode="after")
    def _crm_needs_provider(self) -> ServiceTitanVendor:
        if self.booking_mode == "crm" and self.booking_provider_id is None:
            raise ValueError("booking_mode 'crm' needs booking_provider_id (Settings > Integrations > Booking providers)")
        return self

    def job_type_for(self, service_id: str) -> int:
        return self.job_types.get(service_id, self.default_job_type_id)


class HousecallProVendor(RemoteVendor):
    type: Literal["housecallpro"]
    api_url: HttpsUrl = "https://api.housecallpro.com"
    api_key: Credential
    # Our service id -> Housecall Pro online-booking service id (its duration then applies).
    services: dict[Identifier, Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=dict
    )
    lead_source: Text = "Online booking"


class JobberVendor(RemoteVendor):
    type: Literal["jobber"]
    api_url: HttpsUrl = "https://api.getjobber.com"
    client_id: Credential
    client_secret: Credential
    # The first refresh token; Jobber rotates it on every use and we keep the newest.
    refresh_token: Credential
    graphql_version: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] = "2025-04-16"
    # Jobber has no availability query: working days and arrival windows are ours.
    calendar: LocalCalendar
    # "request": a request with an assessment in the window; "job": a job scheduled in it.
    booking_mode: Literal["request", "job"] = "request"


def _vendor_type(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "local"))
    return str(getattr(value, "type", "local"))


VendorConfig = Annotated[
    Annotated[LocalVendor, Tag("local")]
    | Annotated[ServiceTitanVendor, Tag("servicetitan")]
    | Annotated[HousecallProVendor, Tag("housecallpro")]
    | Annotated[JobberVendor, Tag("jobber")],
    Discriminator(_vendor_type),
]
VENDOR_TYPES = ("local", "servicetitan", "housecallpro", "jobber")


OriginPattern = Annotated[str, StringConstraints(pattern=r"^https?://(\*\.)?[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$")]


class Organization(Model):
    """A company: its keys, where the widget may run, its vendor, routing and triggers."""

    slug: Identifier
    name: Text
    publishable_key: Annotated[str, StringConstraints(pattern=r"^pk_[A-Za-z0-9_]{4,64}$")]
    allowed_origins: list[OriginPattern] = Field(min_length=1)
    timezone: str = "America/Chicago"
    vendor: VendorConfig
    routing: Routing
    button_triggers: list[ButtonTrigger] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like America/Chicago)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)


class OrganizationConfig(Organization):
    """One YAML file: an organization with its flows."""

    flows: list[Flow] = Field(min_length=1)

    @property
    def organization(self) -> Organization:
        return Organization.model_validate(self.model_dump(exclude={"flows"}))
