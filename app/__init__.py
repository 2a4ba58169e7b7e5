"""Scheduler: the booking widget's server. `create_app()` builds the Quart application."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import StrictUndefined
from quart import Quart
from quart_auth import QuartAuth
from quart_schema import QuartSchema

from app import i18n
from app.bookings.abandoned import AbandonedLeads
from app.bookings.changes import QueuedChanges
from app.bookings.links import BookingLinks
from app.bookings.notices import EmailChannel, Notifier, mail_templates
from app.bookings.outbox import OutboxDrainer
from app.clock import clock_starting_at
from app.console.people import SESSION_DAYS
from app.db import Database
from app.domain.booking import tel
from app.events.publishers import publisher_for
from app.flows.cache import ConfigCache
from app.flows.repository import organization_by_slug
from app.logs import configure_logging
from app.mail.outbox import MailDrainer
from app.mail.smtp import SmtpTarget
from app.photos.links import PhotoLinks
from app.photos.storage import PhotoStore
from app.photos.uploads import PhotoUploads
from app.settings import Settings, load_settings
from app.steps import places
from app.vendors.base import VendorStrategy
from app.vendors.registry import vendor_for
from app.vendors.remote import VendorClients
from app.web import api_docs, calendar_grid
from app.web.services import Running, Services, install
from app.webhooks.alerts import DisabledAlert
from app.webhooks.deliveries import WebhookDrainer
from app.webhooks.endpoints import own_netlocs

ROOT = Path(__file__).resolve().parent.parent
# Visitors type into forms; nothing legitimate is this large.
MAX_REQUEST_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> Quart:
    """Build the application from settings (read from the environment when not given)."""
    settings = settings or load_settings()
    # In-process tests keep pytest's log capture; a test's server in its own process logs as usual.
    if settings.environment != "test" or not logging.getLogger().handlers:
        configure_logging(settings.log_level)
    for problem in settings.production_problems():  # `check-config` fails on these
        logging.getLogger("scheduler").error(problem)
    # No static folder: the widget's assets are the built dist/, served by web.assets.
    app = Quart(__name__, template_folder=str(ROOT / "templates"), static_folder=None)
    from app.web.rendering import SynchronousEnvironment

    app.jinja_environment = SynchronousEnvironment
    app.config.update(
        # /docs loads its viewer from this server, not a CDN (app/web/api_docs.py).
        QUART_SCHEMA_SWAGGER_JS_URL=api_docs.JS_URL,
        QUART_SCHEMA_SWAGGER_CSS_URL=api_docs.CSS_URL,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        TEMPLATES_AUTO_RELOAD=settings.templates_auto_reload,
    )
    # StrictUndefined: a template naming a variable it was not given fails (the gallery's
    # test renders every template in every state), instead of rendering a blank.
    app.jinja_options = {**app.jinja_options, "trim_blocks": True, "lstrip_blocks": True, "undefined": StrictUndefined}
    service = Services(settings, clock_starting_at(settings.test_clock_start))
    install(app, service)
    i18n.install(app.jinja_env)  # {{ _("…") }}: the visitor's language (app/i18n.py)
    calendar_grid.install(app.jinja_env)  # a month's grid rendered once for all shown it
    app.jinja_env.filters["tel"] = tel
    # The console's session cookie (app/web/console.py): signed with a key of its own,
    # derived from LINK_SECRET; on the scheduler's origin and under /console only.
    app.secret_key = hmac.new(settings.signing_secret.encode(), b"console session cookie", hashlib.sha256).hexdigest()
    QuartAuth(
        app, cookie_name="scheduler_console", cookie_path="/console", cookie_samesite="Lax",
        cookie_secure=settings.environment != "development", cookie_http_only=True,
        duration=SESSION_DAYS * 86400, salt="scheduler console",
    )
    QuartSchema(
        app,
        info={"title": "Scheduler API", "version": "1"},
        openapi_path="/openapi.json",
        swagger_ui_path="/docs",
        redoc_ui_path=None,
        scalar_ui_path=None,
    )

    from app.api import init_api
    from app.metrics import init_metrics
    from app.web import (
        assets,
        booking_pages,
        console,
        dashboard,
        demo,
        dev_mail,
        gallery,
        health,
        photos,
        session_events,
        steps,
    )
    from app.web.cors import init_cors
    from app.web.request_ids import init_request_logging

    init_request_logging(app)  # first: every later hook and handler has the request id
    init_metrics(app)
    init_cors(app)
    app.register_blueprint(health.bp)
    health.answer_healthz_first(app)
    app.register_blueprint(assets.bp)
    app.register_blueprint(steps.bp)
    app.register_blueprint(session_events.bp)
    app.register_blueprint(photos.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(booking_pages.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(api_docs.bp)
    init_api(app)
    if settings.environment != "production":
        app.register_blueprint(demo.bp)
        app.register_blueprint(gallery.bp)
        app.register_blueprint(dev_mail.bp)

    @app.before_serving
    async def connect_database() -> None:
        # The ZIP data is indexed once, off the event loop, before a visitor needs it.
        asyncio.get_running_loop().run_in_executor(None, places.warm)
        database = Database.connect(settings.require_database(), settings.mongodb_database)
        # A database that is down at start-up must not keep the process from starting:
        # /readyz reports it, and the indexes are created once it answers.
        await database.ensure_indexes()
        publisher = publisher_for(database, settings.events_queue_url, settings.aws_endpoint_url)
        await publisher.start()
        vendor_clients = VendorClients.create()
        photos = None
        if settings.uploads_bucket:
            store = PhotoStore(settings.uploads_bucket, settings.aws_endpoint_url)
            await store.start()
            photos = PhotoUploads(database, store, PhotoLinks(settings.signing_secret), service.base_url)

        async def outbox_vendor(organization_id: str, now: datetime) -> VendorStrategy | None:
            organization = await organization_by_slug(database, organization_id)
            if organization is None:
                return None
            return vendor_for(database, organization, now, clients=vendor_clients)

        config = ConfigCache(database, settings.config_cache_seconds)
        email = EmailChannel(
            database, settings.mail_from, BookingLinks(settings.signing_secret),
            service.base_url, photo_links=PhotoLinks(settings.signing_secret) if settings.uploads_bucket else None,
            flows=config.flow,
        )
        notifier = Notifier(database, [email], office=email)
        own_hosts = own_netlocs(service.base_url)
        webhooks = WebhookDrainer(
            database, service.clock, settings.webhook_poll_seconds, settings.webhooks_may_be_private, own_hosts,
            on_disabled=DisabledAlert(database, mail_templates(), service.base_url, email.wake_now),
        )
        notifier.webhooks_wake = webhooks.wake
        mail = None
        if settings.smtp_url:
            mail = MailDrainer(database, SmtpTarget.parse(settings.smtp_url), settings.mail_from, service.clock, settings.mail_poll_seconds)
            email.wake = mail.wake
        drainer = OutboxDrainer(
            database, outbox_vendor, service.clock, settings.outbox_poll_seconds, on_settled=notifier.booking_settled,
            on_change=QueuedChanges(database, notifier).carry_out, photos=photos.files if photos is not None else None,
        )
        abandoned = AbandonedLeads(
            database, service.clock, timedelta(minutes=settings.abandoned_lead_minutes), settings.abandoned_poll_seconds,
            on_lead=notifier.lead_made,
        )
        loop = asyncio.get_running_loop()
        service.running = Running(
            db=database,
            config=config,
            events=publisher,
            vendors=vendor_clients,
            outbox=drainer,
            outbox_task=loop.create_task(drainer.run()),
            notifier=notifier,
            mail=mail,
            mail_task=loop.create_task(mail.run()) if mail is not None else None,
            abandoned=abandoned,
            abandoned_task=loop.create_task(abandoned.run()),
            webhooks=webhooks,
            webhooks_task=loop.create_task(webhooks.run()),
            photos=photos,
        )
        # Everything loaded so far (modules, Babel's locale data, templates, settings) lives as
        # long as the process: out of the collector's sight, a full collection takes well under
        # a millisecond instead of the 30–60 ms pause that landed on some visitor's request.
        gc.collect()
        gc.freeze()

    @app.after_serving
    async def close_database() -> None:
        gc.unfreeze()  # what was set aside at startup may be collected again (a test process starts many apps)
        running = service.running
        if running is None:
            return
        running.outbox.stop()
        await running.outbox_task
        if running.webhooks is not None and running.webhooks_task is not None:
            running.webhooks.stop()
            await running.webhooks_task
            await running.webhooks.close()
        if running.abandoned is not None and running.abandoned_task is not None:
            running.abandoned.stop()
            await running.abandoned_task
        if running.mail is not None and running.mail_task is not None:
            running.mail.stop()
            await running.mail_task
        await running.vendors.close()
        if running.photos is not None:
            await running.photos.store.close()
        await running.events.stop()
        await running.db.close()
        service.running = None

    from app.web.rendering import context_processors_in_the_loop

    context_processors_in_the_loop(app)  # last: after every extension has added its own
    return app
