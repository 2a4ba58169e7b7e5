"""The mail outbox: a message is stored before it is sent, then sent until the server takes it.

Queueing is idempotent by key (`booking:WB-7K4M2Q:confirmed:1`): asking again for the same
mail stores nothing new, so a retried request or push never mails twice. Sending takes a
lease on the entry, so one process sends it however many run; every try uses the same
Message-ID. A server that is down or says 4xx defers the mail (exponential backoff, for up
to two days); a 5xx refusal fails it, kept with the reason. Times are epoch seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.db import Database
from app.mail.message import Mail, build_message
from app.mail.smtp import MailDeferred, MailRefused, SmtpTarget, deliver
from app.metrics import MAIL_SENDS
from app.polling import Poller, backoff, lease_due

log = logging.getLogger(__name__)

LEASE_SECONDS = 120.0  # longer than a send can take (SEND_TIMEOUT_SECONDS)
FIRST_RETRY_SECONDS = 10.0
LONGEST_RETRY_SECONDS = 30 * 60.0
GIVE_UP_AFTER_SECONDS = 48 * 3600.0


def retry_delay(attempts: int) -> float:
    return backoff(attempts, FIRST_RETRY_SECONDS, LONGEST_RETRY_SECONDS)


async def enqueue(db: Database, key: str, organization_id: str, mail: Mail, now: datetime) -> bool:
    """Store the mail to send; False when this key was queued already (nothing is added)."""
    try:
        await db.mail_outbox.insert_one({
            "_id": key,
            "organization_id": organization_id,
            "mail": mail.to_document(),
            "state": "pending",
            "attempts": 0,
            "created_at": now.timestamp(),
            "due_at": now.timestamp(),
            "lease_until": 0.0,
            "lease_id": None,
            "last_error": None,
            "sent_at": None,
        })
    except DuplicateKeyError:
        return False
    return True


async def claim(db: Database, now: datetime, key: str | None = None) -> dict[str, Any] | None:
    """Lease one due entry (or `key`); None when none is free."""
    return await lease_due(db.mail_outbox, now, LEASE_SECONDS, key)


async def send(db: Database, entry: dict[str, Any], target: SmtpTarget, mail_from: str, now: datetime) -> str:
    """Send a claimed entry once and record the result: sent, deferred, refused or gave_up."""
    lease = {"_id": entry["_id"], "lease_id": entry["lease_id"]}
    attempts = int(entry.get("attempts", 0)) + 1
    mail = Mail.from_document(entry["mail"])
    message = build_message(mail, mail_from, entry["_id"], datetime.fromtimestamp(entry["created_at"], UTC))
    change: dict[str, Any] = {"attempts": attempts, "lease_until": 0.0, "lease_id": None}
    try:
        await deliver(target, message)
    except MailDeferred as exc:
        if now.timestamp() - entry["created_at"] < GIVE_UP_AFTER_SECONDS:
            result = "deferred"
            change |= {"due_at": now.timestamp() + retry_delay(attempts), "last_error": str(exc)}
            log.warning("mail deferred", extra={"mail": entry["_id"], "problem": str(exc), "attempts": attempts})
        else:
            result = "gave_up"
            change |= {"state": "failed", "last_error": f"gave up after {attempts} tries over 48 hours: {exc}"}
            log.error("mail given up", extra={"mail": entry["_id"], "problem": str(exc)})
    except MailRefused as exc:
        result = "refused"
        change |= {"state": "failed", "last_error": str(exc)}
        log.error("mail refused", extra={"mail": entry["_id"], "problem": str(exc)})
    else:
        result = "sent"
        change |= {"state": "sent", "sent_at": now.timestamp(), "last_error": None}
        log.info("mail sent", extra={"mail": entry["_id"], "attempts": attempts})
    MAIL_SENDS.labels(result).inc()
    await db.mail_outbox.update_one(lease, {"$set": change})
    return result


class MailDrainer(Poller):
    """Sends due mail in the background of every web process; leases keep each to one sender."""

    name = "mail outbox"

    def __init__(
        self, db: Database, target: SmtpTarget, mail_from: str, clock: Callable[[], datetime], interval: float = 2.0
    ) -> None:
        super().__init__(clock, interval)
        self._db = db
        self._target = target
        self._mail_from = mail_from

    async def claim(self, now: datetime) -> dict[str, Any] | None:
        return await claim(self._db, now)

    async def handle(self, entry: dict[str, Any], now: datetime) -> None:
        await send(self._db, entry, self._target, self._mail_from, now)
