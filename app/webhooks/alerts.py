"""Telling a company's owners that one of its webhook endpoints was disabled (it failed for
three days): an email each, once per endpoint and day, through the mail outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.db import Database
from app.flows.repository import organization_by_slug
from app.mail import outbox
from app.mail.message import Mail
from app.mail.render import MailTemplates
from app.webhooks.endpoints import Endpoint


@dataclass
class DisabledAlert:
    db: Database
    templates: MailTemplates
    base_url: str
    wake: Callable[[], None] = lambda: None

    async def __call__(self, endpoint: Endpoint, now: datetime) -> None:
        organization = await organization_by_slug(self.db, endpoint.organization_id)
        if organization is None:
            return
        queued = False
        for person in organization.people:
            if person.role != "owner":
                continue
            plain, html = self.templates.render(
                "webhook_disabled", organization=organization, endpoint=endpoint, person=person,
                console_url=f"{self.base_url}/console/webhooks/{endpoint.id}",
                preheader="Deliveries to it failed for three days",
            )
            mail = Mail(to=person.email, subject=f"Webhook disabled: {endpoint.url[:80]}", text=plain, html=html, sender_name="Scheduler")
            key = f"webhook-disabled:{endpoint.id}:{now:%Y-%m-%d}:{person.email}"
            queued = await outbox.enqueue(self.db, key, organization.slug, mail, now) or queued
        if queued:
            self.wake()
