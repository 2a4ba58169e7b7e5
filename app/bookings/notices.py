"""What the visitor hears about their booking: received, confirmed, needs attention, a new
time, cancelled, a change that could not be made.

The `Notifier` decides *what* to say and when; each `Channel` decides how it reaches the
visitor. Email is the channel today (`EmailChannel`): each email is queued in the mail
outbox under a key made of the booking, the kind of notice and the booking's version, so
however often a confirm is retried or a vendor's answer is processed, the visitor gets
each email once. A text-message channel would be another `Channel` (its own outbox,
keyed the same way); none is configured, and nothing pretends to send one. Queueing never
stands in a booking's way: a failure is logged, and the next confirm or push queues it
again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from app import i18n
from app.bookings.calendar_file import Method, calendar_file
from app.bookings.links import BookingLinks
from app.bookings.repository import booking_by_reference
from app.db import Database
from app.domain.booking import Booking, ChosenWindow, long_date, tel
from app.domain.lead import Lead
from app.flows.models import Flow, NoticeTopic, Organization, Person
from app.flows.repository import flow_by_id, organization_by_slug
from app.mail import outbox
from app.mail.message import Attachment, Mail
from app.mail.render import MailTemplates
from app.photos.links import PhotoLinks
from app.webhooks import deliveries as webhooks
from app.webhooks.deliveries import booking_data, lead_data

log = logging.getLogger(__name__)

NoticeKind = Literal["received", "confirmed", "needs_attention", "rescheduled", "cancelled", "change_failed"]
# The emails that change the visitor's calendar, and so carry the calendar file.
CALENDAR_KINDS = frozenset({"received", "confirmed", "rescheduled", "cancelled"})


@dataclass(frozen=True)
class FailedChange:
    """A change the visitor asked for that could not be made in the background, and why."""

    id: str
    kind: Literal["reschedule", "cancel"]
    window: ChosenWindow | None
    why: str


@dataclass(frozen=True)
class NoticeText:
    subject: str
    headline: str
    intro: str
    next_steps: tuple[str, ...]
    preheader: str


def notice_text(kind: NoticeKind, booking: Booking, organization: Organization, failed: FailedChange | None = None) -> NoticeText:
    """The words of the visitor's email of `kind`, in the language of the current locale
    (`compose` answers in the booking's: `i18n.using(booking.locale)`)."""
    when = f"{i18n.long_date(booking.day)}, {i18n.window_text(booking.window)}"
    service, reference, company = str(i18n.company_text(booking.service.name)), booking.reference, organization.name
    phone = organization.contact.phone
    values = {"when": when, "service": service, "reference": reference, "company": company, "phone": phone or ""}
    _ = i18n.gettext

    def say(message: str) -> str:
        return i18n.tidy(message % values)

    if kind == "change_failed":
        if failed is not None and failed.window is not None:
            where = f"{i18n.long_date(failed.window.day)}, {i18n.window_text(failed.window)}"
            asked = _("We couldn't move your visit to %(asked)s") % {"asked": where}
        else:
            asked = _("We couldn't cancel your visit")
        why = f": {_(failed.why)}" if failed is not None else ""
        return NoticeText(
            subject=say(_("Your visit is unchanged: %(service)s, %(when)s")),
            headline=_("Your visit is unchanged"),
            intro=i18n.tidy(f"{asked}{why}. ") + say(_("%(company)s still expects you on %(when)s.")),
            next_steps=(
                say(_("You can try again from the link below, or call us at %(phone)s.")) if phone
                else _("You can try again from the link below."),
            ),
            preheader=say(_("We couldn't make your change — booking %(reference)s is unchanged")),
        )
    if kind == "confirmed":
        return NoticeText(
            subject=say(_("You're booked: %(service)s, %(when)s")),
            headline=_("You're booked!"),
            intro=say(_("%(company)s will see you on %(when)s.")),
            next_steps=(
                _("Your technician arrives within the window above and calls when on the way."),
                _("Please make sure someone over 18 is home and the work area is clear."),
            ),
            preheader=say(_("%(service)s on %(when)s — reference %(reference)s")),
        )
    if kind == "received":
        return NoticeText(
            subject=say(_("We've got your request: %(service)s, %(when)s")),
            headline=_("We've got your request"),
            intro=say(_("%(company)s is confirming the time with its schedule. You'll get another email when it is confirmed.")),
            next_steps=(
                _("Nothing to do for now: we'll email you as soon as the time is confirmed."),
                say(_("If the time can't be kept, we'll call you at %(phone)s to find another.")) if phone
                else _("If the time can't be kept, we'll call you to find another."),
            ),
            preheader=say(_("%(service)s on %(when)s — reference %(reference)s")),
        )
    if kind == "rescheduled":
        return NoticeText(
            subject=say(_("New time: %(service)s, %(when)s")),
            headline=_("Your visit has a new time"),
            intro=say(_("%(company)s will now see you on %(when)s. Your earlier time is free again.")),
            next_steps=(_("The attached calendar file moves the visit in your calendar."),),
            preheader=say(_("%(service)s moved to %(when)s — reference %(reference)s")),
        )
    if kind == "cancelled":
        return NoticeText(
            subject=say(_("Cancelled: %(service)s, %(when)s")),
            headline=_("Your visit is cancelled"),
            intro=say(_("We've cancelled your visit on %(when)s. Nothing more is needed from you.")),
            next_steps=(
                say(_("Need us after all? Book again on our website or call us at %(phone)s.")) if phone
                else _("Need us after all? Book again on our website or call us."),
            ),
            preheader=say(_("Booking %(reference)s is cancelled")),
        )
    return NoticeText(
        subject=say(_("About your request %(reference)s: we'll be in touch")),
        headline=_("We'll call you to confirm the time"),
        intro=say(_("%(company)s couldn't confirm %(when)s automatically. Someone from our office will contact you shortly.")),
        next_steps=(say(_("To sort it out sooner, call us at %(phone)s.")) if phone else _("We'll contact you by phone or email."),),
        preheader=say(_("Your request %(reference)s needs a call from our office")),
    )


@dataclass(frozen=True)
class Notice:
    """One thing to tell the visitor about their booking."""

    kind: NoticeKind
    organization: Organization
    booking: Booking
    now: datetime
    failed: FailedChange | None = None

    @property
    def key(self) -> str:
        """The same notice gets the same key, so each channel sends it once."""
        return f"booking:{self.booking.reference}:{self.kind}:{self.booking.version}" + (f":{self.failed.id}" if self.failed else "")


class Channel(Protocol):
    """A way to reach the visitor (email; text messages would be another). `deliver`
    stores the notice for sending, once per `notice.key`; it may raise: the notifier logs."""

    name: str

    async def deliver(self, notice: Notice) -> None: ...


@dataclass
class EmailChannel:
    """Notices as emails, queued in the mail outbox; `wake` tells the mail drainer there is
    mail to send. With `links` and `base_url`, emails carry the link to the booking's page."""

    db: Database
    mail_from: str
    links: BookingLinks | None = None
    base_url: str = ""
    templates: MailTemplates = field(default_factory=lambda: mail_templates())
    wake: Callable[[], None] = lambda: None
    name: str = "email"
    # Signs the links to a booking's photos in the company's emails (None: no photos shown).
    photo_links: PhotoLinks | None = None
    # A flow by organization and id: the web process's configuration cache (a confirm's
    # email then costs no read of the flow it was just booked in); else the database.
    flows: Callable[[str, str], Awaitable[Flow | None]] | None = None

    async def deliver(self, notice: Notice) -> None:
        if not notice.booking.customer.email:
            return
        organization_id, flow_id = notice.organization.slug, notice.booking.flow_id
        flow = await (self.flows(organization_id, flow_id) if self.flows is not None else flow_by_id(self.db, organization_id, flow_id))
        mail = self.compose(notice, flow.texts_in(notice.booking.locale) if flow is not None else None)
        if await outbox.enqueue(self.db, notice.key, notice.organization.slug, mail, notice.now):
            self.wake()

    def wake_now(self) -> None:
        """Tell the mail drainer there is mail (its `wake` is set once it exists)."""
        self.wake()

    async def deliver_office(self, notice: OfficeNotice, person: Person) -> None:
        if await outbox.enqueue(self.db, notice.key(person), notice.organization.slug, self.compose_office(notice, person), notice.now):
            self.wake()

    def compose_office(self, notice: OfficeNotice, person: Person) -> Mail:
        links = self.photo_links

        def photo_url(key: str) -> str:
            assert links is not None
            return f"{self.base_url}/photos/{links.token(key, notice.now)}"

        return compose_office(notice, person, self.templates, self.base_url, photo_url if links is not None else None)

    def compose(self, notice: Notice, company_texts: Mapping[str, str] | None = None) -> Mail:
        """The email; `company_texts`: the company's words in the visitor's language (its flow's)."""
        manage_url = None
        if self.links is not None and notice.kind != "cancelled":
            token = self.links.token(notice.booking, "manage", notice.organization.zone)
            manage_url = f"{self.base_url}/bookings/{token}"
        return compose(
            notice.kind, notice.organization, notice.booking, notice.now, self.mail_from, self.templates, manage_url,
            notice.failed, company_texts,
        )


@dataclass(frozen=True)
class OfficeNotice:
    """What a company's people hear of: a new booking, one that needs attention, a new lead."""

    topic: NoticeTopic
    organization: Organization
    now: datetime
    booking: Booking | None = None
    lead: Lead | None = None

    def key(self, person: Person) -> str:
        about = f"{self.booking.reference}:{self.booking.version}" if self.booking else f"lead:{self.lead.id if self.lead else ''}"
        return f"office:{self.topic}:{about}:{person.email}"


def office_text(notice: OfficeNotice) -> tuple[str, str, str]:
    """(subject, headline, intro) of an office email."""
    b, lead = notice.booking, notice.lead
    if b is not None:
        when = f"{long_date(b.day)}, {b.window.label}"
        who = b.customer.full_name or b.customer.phone or b.reference
        if notice.topic == "needs_attention":
            why = f": {b.vendor.error}" if b.vendor.error else "."
            return (f"Needs attention: {who}, {b.service.name} {when}", "A booking needs attention",
                    f"Your schedule ({b.vendor.type}) did not take this booking{why} Call the customer, or try again from the console.")
        return (f"New booking: {b.service.name}, {when} — {who}", "New booking",
                f"{who} booked {b.service.name} for {when}." + ("" if b.status == "confirmed" else " Your schedule has not confirmed it yet."))
    assert lead is not None
    who = lead.name or lead.phone or lead.email or "A visitor"
    return (f"New lead: {who} ({lead.reason})", "New lead", f"{who} left their details ({lead.reason}). Call them back while it's fresh.")


@dataclass
class Notifier:
    """Decides what the visitor hears and when, and hands each notice to every channel;
    tells the company's people (by email: `office`) what they asked to hear of."""

    db: Database
    channels: list[Channel] = field(default_factory=list)
    office: EmailChannel | None = None
    # With webhooks on: tells the webhook outbox's drainer there is something to send.
    webhooks_wake: Callable[[], None] | None = None

    async def booking_event(self, event_type: str, organization: Organization, booking: Booking, now: datetime) -> None:
        """Tell the company's own systems (webhooks) what happened to a booking."""
        await self.booking_events([event_type], organization, booking, now)

    async def booking_events(self, event_types: Sequence[str], organization: Organization, booking: Booking, now: datetime) -> None:
        """Several things that happened to a booking at once (created and confirmed), stored together."""
        await self._emit(event_types, organization, booking_data(booking), f"{booking.reference}:{booking.version}", now)

    async def _emit(self, event_types: Sequence[str], organization: Organization, data: dict[str, Any], key: str, now: datetime) -> None:
        if self.webhooks_wake is None or not event_types:
            return
        try:
            if await webhooks.emit(self.db, organization.slug, event_types, data, key, now):
                self.webhooks_wake()
        except Exception:
            log.exception("the %s webhook could not be stored", ", ".join(event_types))

    async def booking_made(self, organization: Organization, booking: Booking, now: datetime) -> None:
        """After a confirm: the notice its status calls for; the office hears of it; the
        company's systems hear it was created (and confirmed, or needs attention)."""
        kind: NoticeKind = "confirmed" if booking.status == "confirmed" else (
            "needs_attention" if booking.status == "needs_attention" else "received"
        )
        telling: list[Awaitable[None]] = []
        events: list[str] = []
        if booking.status in {"confirmed", "pending", "needs_attention"}:
            telling += [self.tell_visitor(kind, organization, booking, now), self.tell_office(OfficeNotice("booking", organization, now, booking=booking))]
            events.append("booking.created")
        if booking.status == "confirmed":
            events.append("booking.confirmed")
        if booking.status == "needs_attention":
            telling.append(self.tell_office(OfficeNotice("needs_attention", organization, now, booking=booking)))
            events.append("booking.needs_attention")
        # Each is stored on its own (and logs its own failure): together, the visitor waits
        # for the slowest, not for the sum. The webhooks first: their read of the endpoints is
        # on its way while the emails are written.
        await asyncio.gather(self.booking_events(events, organization, booking, now), *telling)

    async def lead_made(self, organization: Organization, lead: Lead, now: datetime) -> None:
        await self.tell_office(OfficeNotice("lead", organization, now, lead=lead))
        await self._emit(["lead.created"], organization, lead_data(lead), f"lead:{lead.id}", now)

    async def tell_office(self, notice: OfficeNotice) -> None:
        if self.office is None:
            return
        for person in notice.organization.people:
            if notice.topic not in person.topics:
                continue
            try:
                await self.office.deliver_office(notice, person)
            except Exception:
                log.exception("the %s email to %s could not be queued", notice.topic, person.email)

    async def booking_settled(self, reference: str, now: datetime) -> None:
        """After a vendor answered in the background: confirmed, or it needs the office."""
        try:
            booking = await booking_by_reference(self.db, reference)
            organization = None if booking is None else await organization_by_slug(self.db, booking.organization_id)
        except Exception:
            log.exception("the notice about booking %s could not be queued", reference)
            return
        if booking is None or organization is None:
            return
        if booking.status == "confirmed":
            await self.tell_visitor("confirmed", organization, booking, now)
            await self.booking_event("booking.confirmed", organization, booking, now)
        elif booking.status == "needs_attention":
            await self.tell_visitor("needs_attention", organization, booking, now)
            await self.tell_office(OfficeNotice("needs_attention", organization, now, booking=booking))
            await self.booking_event("booking.needs_attention", organization, booking, now)

    async def tell_visitor(
        self, kind: NoticeKind, organization: Organization, booking: Booking, now: datetime, failed: FailedChange | None = None,
    ) -> None:
        if kind in {"rescheduled", "cancelled"}:
            await self.booking_event(f"booking.{kind}", organization, booking, now)
        notice = Notice(kind, organization, booking, now, failed)
        for channel in self.channels:
            try:
                await channel.deliver(notice)
            except Exception:
                log.exception("the %s %s about booking %s could not be queued", kind, channel.name, booking.reference)


def mail_templates() -> MailTemplates:
    return MailTemplates({"tel": tel})


def compose(
    kind: NoticeKind, organization: Organization, booking: Booking, now: datetime, mail_from: str, templates: MailTemplates,
    manage_url: str | None = None, failed: FailedChange | None = None, company_texts: Mapping[str, str] | None = None,
) -> Mail:
    """The visitor's email of `kind` about `booking` (the gallery shows each); `manage_url`
    is the signed link to the booking's page (change the time, cancel). In the visitor's
    language: ours, and the company's words from `company_texts` (its flow's translations)."""
    with i18n.using(i18n.known_locale(booking.locale), company_texts):
        return _compose(kind, organization, booking, now, mail_from, templates, manage_url, failed)


def _compose(
    kind: NoticeKind, organization: Organization, booking: Booking, now: datetime, mail_from: str, templates: MailTemplates,
    manage_url: str | None, failed: FailedChange | None,
) -> Mail:
    text = notice_text(kind, booking, organization, failed)
    attachments: tuple[Attachment, ...] = ()
    if kind in CALENDAR_KINDS:
        method: Method = "CANCEL" if kind == "cancelled" else "REQUEST"
        ics = calendar_file(
            booking, company=organization.name, company_phone=organization.contact.phone,
            zone_name=organization.timezone, mail_from=mail_from, now=now, method=method,
        )
        attachments = (Attachment("booking.ics", f"text/calendar; method={method}", ics),)
    plain, html = templates.render(
        "booking", organization=organization, booking=booking, notice=text, preheader=text.preheader,
        calendar_attached=bool(attachments), cancelled=kind == "cancelled", manage_url=manage_url,
    )
    return Mail(
        to=booking.customer.email,
        subject=text.subject,
        text=plain,
        html=html,
        sender_name=organization.contact.sender_name or organization.name,
        reply_to=organization.contact.email,
        attachments=attachments,
    )


def compose_office(
    notice: OfficeNotice, person: Person, templates: MailTemplates, base_url: str, photo_url: Callable[[str], str] | None = None,
) -> Mail:
    """The email to one of the company's people about `notice` (the gallery shows each);
    `photo_url(key)` links the booking's photos of the problem (None: they are not shown)."""
    subject, headline, intro = office_text(notice)
    path = f"/console/bookings/{notice.booking.reference}" if notice.booking else "/console/leads"
    photos = notice.booking.photos if notice.booking is not None and photo_url is not None else ()
    plain, html = templates.render(
        "office", organization=notice.organization, notice=notice, headline=headline, intro=intro, preheader=intro,
        console_url=f"{base_url}{path}", person=person, photos=photos, photo_url=photo_url,
    )
    return Mail(to=person.email, subject=subject, text=plain, html=html, sender_name="Scheduler")
