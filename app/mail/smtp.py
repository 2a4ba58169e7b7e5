"""Sending one message over SMTP (aiosmtplib), and telling a refusal from a delay."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

SEND_TIMEOUT_SECONDS = 30.0
AUTHENTICATION_CODES = {530, 534, 535, 538}


class MailDeferred(Exception):
    """Not sent this time (the server is down, slow, or said 4xx): try again later."""


class MailRefused(Exception):
    """The server refused the message for good (5xx, every recipient refused)."""


@dataclass(frozen=True)
class SmtpTarget:
    """Where SMTP_URL points: smtp://[user:password@]host[:port][?starttls=required], or smtps://…"""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    start_tls: bool | None = None  # None: when the server offers it; True: required

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:587 or smtps://…:465")
        implicit = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        required = query.get("starttls", [""])[0].lower() in {"required", "true", "1"}
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            start_tls=None if implicit or not required else True,
        )


async def deliver(target: SmtpTarget, message: EmailMessage, timeout: float = SEND_TIMEOUT_SECONDS) -> None:
    """Hand the message to the server; MailDeferred or MailRefused when it did not take it."""
    try:
        await aiosmtplib.send(
            message,
            hostname=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.implicit_tls,
            start_tls=False if target.implicit_tls else target.start_tls,
            timeout=timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [error.code for error in exc.recipients]
        if all(code >= 500 for code in codes):
            raise MailRefused(f"every recipient refused: {exc.recipients[0].message}"[:300]) from None
        raise MailDeferred(f"a recipient deferred: {exc.recipients[0].message}"[:300]) from None
    except aiosmtplib.SMTPResponseException as exc:
        # A refused login is our settings' fault, not the message's: it waits for a fix.
        if exc.code >= 500 and exc.code not in AUTHENTICATION_CODES:
            raise MailRefused(f"{exc.code} {exc.message}"[:300]) from None
        raise MailDeferred(f"{exc.code} {exc.message}"[:300]) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise MailDeferred(f"{type(exc).__name__}: {exc}"[:300]) from None
