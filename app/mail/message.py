"""One email as the outbox keeps it, and as SMTP sends it (the standard library's `email`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    data: bytes

    def to_document(self) -> dict[str, Any]:
        return {"filename": self.filename, "content_type": self.content_type, "data": self.data}

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Attachment:
        return cls(str(doc["filename"]), str(doc["content_type"]), bytes(doc["data"]))


@dataclass(frozen=True)
class Mail:
    """What to send: rendered when it is queued, so a later template change or a crash
    between queueing and sending cannot change or lose it."""

    to: str
    subject: str
    text: str
    html: str
    sender_name: str
    reply_to: str | None = None
    attachments: tuple[Attachment, ...] = ()

    def to_document(self) -> dict[str, Any]:
        return {
            "to": self.to, "subject": self.subject, "text": self.text, "html": self.html,
            "sender_name": self.sender_name, "reply_to": self.reply_to,
            "attachments": [a.to_document() for a in self.attachments],
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Mail:
        return cls(
            to=str(doc["to"]), subject=str(doc["subject"]), text=str(doc["text"]), html=str(doc["html"]),
            sender_name=str(doc["sender_name"]), reply_to=doc.get("reply_to"),
            attachments=tuple(Attachment.from_document(a) for a in doc.get("attachments") or []),
        )


def message_id(key: str, mail_from: str) -> str:
    """The same Message-ID for every try of one queued mail: receivers can tell a repeat."""
    domain = mail_from.rpartition("@")[2]
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def build_message(mail: Mail, mail_from: str, key: str, queued_at: datetime) -> EmailMessage:
    """A multipart message: plain text and HTML alternatives, then the attachments."""
    message = EmailMessage()
    local, _, domain = mail_from.rpartition("@")
    message["From"] = Address(mail.sender_name, local, domain)
    message["To"] = mail.to
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(queued_at)
    message["Message-ID"] = message_id(key, mail_from)
    message["Auto-Submitted"] = "auto-generated"  # no vacation replies to a booking confirmation
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        maintype, _, rest = attachment.content_type.partition("/")
        subtype, *params = (part.strip() for part in rest.split(";"))
        extra = dict(p.split("=", 1) for p in params if "=" in p)
        if maintype == "text":
            message.add_attachment(
                attachment.data.decode(), subtype=subtype, filename=attachment.filename, params=extra
            )
        else:
            message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message
