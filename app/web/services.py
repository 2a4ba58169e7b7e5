"""What a web process shares between its requests, typed: settings, the clock, the database,
the configuration cache, the event publisher, the vendors' clients and the outbox drainer.

`create_app` makes one `Services` (settings and clock) and starts it when the app starts
serving (the rest, and the background drainers of the vendor and mail outboxes). Request code reads `services.current()`, or the shortcuts
`services.now()` and `services.current_db()`; nothing else is kept in `app.extensions`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from quart import Quart, current_app

from app.bookings.abandoned import AbandonedLeads
from app.bookings.links import BookingLinks
from app.bookings.notices import Notifier
from app.bookings.outbox import OutboxDrainer
from app.clock import Clock
from app.console.people import SignIns
from app.db import Database
from app.events.publishers import EventPublisher
from app.flows.cache import ConfigCache
from app.mail.outbox import MailDrainer
from app.photos.links import PhotoLinks
from app.photos.uploads import PhotoUploads
from app.settings import Settings
from app.vendors.remote import VendorClients
from app.web.local_counts import LocalCounts
from app.webhooks.deliveries import WebhookDrainer

_EXTENSION = "scheduler"


@dataclass
class Running:
    """What exists only while the app serves (made in `before_serving`)."""

    db: Database
    config: ConfigCache
    events: EventPublisher
    vendors: VendorClients
    outbox: OutboxDrainer
    outbox_task: asyncio.Task[None]
    notifier: Notifier
    mail: MailDrainer | None = None  # None without SMTP_URL: mail is stored and waits
    mail_task: asyncio.Task[None] | None = None
    abandoned: AbandonedLeads | None = None
    abandoned_task: asyncio.Task[None] | None = None
    webhooks: WebhookDrainer | None = None
    webhooks_task: asyncio.Task[None] | None = None
    photos: PhotoUploads | None = None  # None without UPLOADS_BUCKET: no flow asks for photos


@dataclass
class Services:
    settings: Settings
    clock: Clock
    running: Running | None = None
    # The allowed origins of every organization, for CORS preflights: (valid until, patterns).
    origins_cache: tuple[float, list[str]] | None = field(default=None)
    # This process's share of the rate limits' counts (app/web/rate_limits.py).
    rate_counts: LocalCounts = field(default_factory=LocalCounts)

    def _started(self) -> Running:
        if self.running is None:
            raise RuntimeError("the app has not started serving: its database and services are not ready")
        return self.running

    @property
    def links(self) -> BookingLinks:
        """Signs and reads the links to one booking (LINK_SECRET)."""
        return BookingLinks(self.settings.signing_secret)

    @property
    def photo_links(self) -> PhotoLinks:
        """Signs and reads the links to a photo's copy (LINK_SECRET)."""
        return PhotoLinks(self.settings.signing_secret)

    @property
    def photos(self) -> PhotoUploads | None:
        return self._started().photos

    @property
    def sign_ins(self) -> SignIns:
        """People's sign-in links and console sessions (LINK_SECRET signs the links)."""
        return SignIns(self.db, self.settings.signing_secret)

    @property
    def base_url(self) -> str:
        """Where this scheduler is reached, for links in emails."""
        return self.settings.public_base_url or f"http://127.0.0.1:{self.settings.port}"

    def wake_webhooks(self) -> None:
        running = self._started()
        if running.webhooks is not None:
            running.webhooks.wake()

    def wake_mail(self) -> None:
        """Mail was queued: send it now rather than at the next round."""
        running = self._started()
        if running.mail is not None:
            running.mail.wake()

    @property
    def db(self) -> Database:
        return self._started().db

    @property
    def config(self) -> ConfigCache:
        return self._started().config

    @property
    def events(self) -> EventPublisher:
        return self._started().events

    @property
    def vendors(self) -> VendorClients:
        return self._started().vendors

    @property
    def outbox(self) -> OutboxDrainer:
        return self._started().outbox

    @property
    def notifier(self) -> Notifier:
        return self._started().notifier


def install(app: Quart, services: Services) -> None:
    app.extensions[_EXTENSION] = services


def services_of(app: Quart) -> Services:
    found: Services = app.extensions[_EXTENSION]
    return found


def current() -> Services:
    """The current app's services (inside a request, a WebSocket or an app context)."""
    return services_of(current_app)


def now() -> datetime:
    """The app's current time (its clock; tests choose it)."""
    return current().clock()


def current_db() -> Database:
    return current().db
