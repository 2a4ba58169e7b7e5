"""The configuration of an organization and its booking flows, as companies write it in YAML.

Structural rules live on the models; rules that relate one part to another (an answer
that leads to a question that does not exist) are checked in `references.py` so each
error can name its exact path.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

from pydantic import Field, StringConstraints, field_validator, model_validator

from app.domain.config import HttpsUrl, Identifier, Language, Model, Text
from app.i18n import BY_LANGUAGE, N_, catalogue
from app.vendors.registry import VendorConfig

StepType = Literal["ZipCode", "ServiceSelection", "AdditionalDetails", "Timeslot", "Customer", "Summary"]
ZipCode = Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
CssColor = Annotated[str, StringConstraints(pattern=r"^#(?:[0-9a-fA-F]{3}){1,2}$")]
CssLength = Annotated[str, StringConstraints(pattern=r"^(?:0|\d{1,3}(?:\.\d+)?(?:px|rem|em))$")]
FontFamily = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ,'\"-]{1,200}$")]


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
    # Said after "We don't serve 10001 yet.": what the visitor can do about it.
    out_of_area_message: Text = N_("Leave your phone number or email and we'll let you know when we do.")


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

    def questions_left(self, question_id: str) -> int:
        """The most questions from `question_id` (itself included) to a service."""
        def depth(qid: str, seen: frozenset[str]) -> int:
            if qid in seen:  # a loop cannot lengthen the walk
                return 0
            nexts = [a.question for a in self.question(qid).answers if a.question]
            return 1 + max((depth(n, seen | {qid}) for n in nexts), default=0)
        return depth(question_id, frozenset())


class DetailField(Model):
    """A question on the AdditionalDetails step."""

    name: Identifier
    label: Text
    kind: Literal["text", "textarea", "select", "checkbox"] = "text"
    required: bool = False
    options: list[Text] = Field(default_factory=list)
    max_length: int = Field(default=500, ge=1, le=5000)
    help: Text | None = None


class PhotoRequest(Model):
    """AdditionalDetails asks for photos of the problem (app/photos/): for the listed
    services (none listed: every service), up to `max_photos`."""

    services: list[Identifier] = Field(default_factory=list)
    max_photos: int = Field(default=5, ge=1, le=5)
    required: bool = False
    label: Text = N_("Photos of the problem")
    help: Text | None = N_("A photo or two helps the technician bring the right parts.")

    def asked_for(self, service_id: str | None) -> bool:
        return not self.services or service_id in self.services


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


class EmergencyLine(Model):
    """Shown above every step of a flow: for a burst pipe, a call beats a booking."""

    # Default: the company's contact phone.
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9 ()+.-]{7,25}$")] | None = None
    # What counts as an emergency, in the company's words ("No heat, a gas smell, water everywhere?").
    message: Text | None = None


class Flow(Model):
    id: Identifier
    name: Text
    steps: list[StepConfig] = Field(min_length=1)
    service_area: ServiceArea | None = None
    service_graph: ServiceGraph
    additional_details: list[DetailField] = Field(default_factory=list)
    photos: PhotoRequest | None = None
    theme: Theme = Theme()
    emergency: EmergencyLine | None = None
    # The company's own words in other languages, looked up by the English text:
    # `translations: {es: {"Where do you need service?": "¿Dónde necesita el servicio?"}}`.
    # Text without a translation shows as written (`python -m app flows check` lists it).
    translations: dict[Language, dict[Text, Text]] = Field(default_factory=dict)

    def texts_in(self, language: str) -> dict[str, str]:
        """The flow's translations for a language ('es', or a locale: 'es_US'), or nothing."""
        return dict(self.translations.get(language[:2], {}))  # type: ignore[call-overload]

    def company_texts(self) -> list[str]:
        """Every text of the flow a visitor reads (what `translations:` translates)."""
        graph = self.service_graph
        texts = [t for s in self.steps for t in (s.title, s.intro) if t]
        texts += [q.prompt for q in graph.questions] + [a.label for q in graph.questions for a in q.answers]
        texts += [s.name for s in graph.services] + [s.description for s in graph.services if s.description]
        for field in self.additional_details:
            texts += [field.label, *field.options] + ([field.help] if field.help else [])
        if self.photos is not None:
            texts += [self.photos.label] + ([self.photos.help] if self.photos.help else [])
        if self.service_area is not None:
            texts.append(self.service_area.out_of_area_message)
        if self.emergency is not None and self.emergency.message:
            texts.append(self.emergency.message)
        return list(dict.fromkeys(texts))

    def untranslated(self, language: str) -> list[str]:
        """The flow's texts its translations leave in English, for a language it offers."""
        table, ours = self.texts_in(language), catalogue(BY_LANGUAGE[language])
        return [t for t in self.company_texts() if t not in table and ours.gettext(t) == t]

    def photos_for(self, service_id: str | None) -> PhotoRequest | None:
        """What AdditionalDetails asks in photos for the chosen service, if anything."""
        asks = self.photos is not None and self.photos.asked_for(service_id) and "AdditionalDetails" in {s.type for s in self.steps}
        return self.photos if asks else None

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


OriginPattern = Annotated[str, StringConstraints(pattern=r"^https?://(\*\.)?[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$")]


EmailAddress = Annotated[str, StringConstraints(pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$", max_length=254)]


class CompanyContact(Model):
    """How visitors reach the company: in its emails and on a booking's page."""

    phone: Annotated[str, StringConstraints(pattern=r"^[0-9 ()+.-]{7,25}$")] | None = None
    # Replies to the emails visitors receive go here.
    email: EmailAddress | None = None
    # The sender's name in visitors' inboxes (default: the organization's name).
    sender_name: Text | None = None
    logo_url: HttpsUrl | None = None


class BookingChanges(Model):
    """What visitors may change themselves from the link in their email."""

    allowed: bool = True
    # Not within this many hours of the arrival window: then the page gives the phone number.
    until_hours_before: int = Field(default=12, ge=0, le=24 * 14)


NoticeTopic = Literal["booking", "lead", "needs_attention"]


class Person(Model):
    """Someone at the company who signs in to its console (by a link emailed to them).

    An owner manages the company's webhooks and people's notices; staff work the inbox.
    `notify` is what they are emailed about: new bookings, new leads, bookings that need
    attention (owners hear of all three unless they say otherwise)."""

    email: EmailAddress
    name: Text | None = None
    role: Literal["owner", "staff"] = "staff"
    notify: list[NoticeTopic] | None = None

    @field_validator("email")
    @classmethod
    def _lower_case(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def topics(self) -> frozenset[NoticeTopic]:
        if self.notify is not None:
            return frozenset(self.notify)
        return frozenset({"booking", "lead", "needs_attention"}) if self.role == "owner" else frozenset()


class Organization(Model):
    """A company: its keys, where the widget may run, its vendor, routing and triggers."""

    slug: Identifier
    name: Text
    publishable_key: Annotated[str, StringConstraints(pattern=r"^pk_[A-Za-z0-9_]{4,64}$")]
    allowed_origins: list[OriginPattern] = Field(min_length=1)
    timezone: str = "America/Chicago"
    # The widget's language when the page does not ask for one and the visitor's browser
    # prefers none the widget speaks.
    default_language: Language = "en"
    # The city visitors know the company's time by ("Austin": windows read "8 – 11 am Austin
    # time" to a visitor whose clock differs); default: the time zone's own city.
    timezone_city: Text | None = None
    vendor: VendorConfig
    routing: Routing
    button_triggers: list[ButtonTrigger] = Field(default_factory=list)
    contact: CompanyContact = Field(default_factory=CompanyContact)
    booking_changes: BookingChanges = Field(default_factory=BookingChanges)
    people: list[Person] = Field(default_factory=list, max_length=200)

    @field_validator("people")
    @classmethod
    def _one_entry_per_person(cls, value: list[Person]) -> list[Person]:
        emails = [p.email for p in value]
        doubled = sorted({e for e in emails if emails.count(e) > 1})
        if doubled:
            raise ValueError(f"listed more than once: {', '.join(doubled)}")
        return value

    def person(self, email: str) -> Person | None:
        wanted = email.strip().lower()
        return next((p for p in self.people if p.email == wanted), None)

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
