"""People signing in to their company's console: by a link emailed to them, no password.

A sign-in link carries a random secret, signed (a forged link is refused without a
database read) and stored only as its hash, for 15 minutes, used once. Opening it shows a
button: mail scanners that fetch links do not sign anyone in, and a link forwarded or
replayed after use is refused. The person's console session is a random id whose hash is
stored with the organization and the person it is for; it ends at sign-out, after 14
days, after 3 days unused, or when the person is no longer listed in the organization's
YAML. A session is for one organization: someone at two companies signs in to each.

Times a document gains after it is stored (used, last seen, closed) are epoch seconds:
numbers compare the same in every MongoDB-wire server (the embedded one stores a date
set by `$set` as text).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from app.db import Database
from app.flows.models import Organization, Person
from app.flows.repository import organization_by_slug
from app.mail import outbox
from app.mail.message import Mail
from app.mail.render import MailTemplates

LINK_MINUTES = 15
SESSION_DAYS = 14
IDLE_DAYS = 3
MAX_EMAIL = 254


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class BadSignIn(Exception):
    """A sign-in link that is not ours, used, or too old: the message says what to do."""


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in person at one organization."""

    id_hash: str
    organization: Organization
    person: Person
    created_at: datetime
    expires_at: datetime

    @property
    def is_owner(self) -> bool:
        return self.person.role == "owner"


class SignIns:
    def __init__(self, db: Database, secret: str) -> None:
        self._db = db
        self._links = URLSafeSerializer(secret, salt="console-sign-in")

    # -- the emailed link ---------------------------------------------------------------

    async def places_of(self, email: str) -> list[tuple[Organization, Person]]:
        """Every organization that lists `email` among its people."""
        wanted = email.strip().lower()[:MAX_EMAIL]
        found: list[tuple[Organization, Person]] = []
        async for doc in self._db.organizations.find({"people": {"$elemMatch": {"email": wanted}}}, {"_id": 1}):
            organization = await organization_by_slug(self._db, str(doc["_id"]))
            person = organization.person(wanted) if organization else None
            if organization is not None and person is not None:
                found.append((organization, person))
        return found

    async def issue(self, organization: Organization, person: Person, now: datetime) -> str:
        """A new sign-in link's token for `person` at `organization`."""
        secret = secrets.token_urlsafe(24)
        await self._db.console_sign_ins.insert_one({
            "_id": _hash(secret), "organization_id": organization.slug, "email": person.email,
            "created_at": now, "expires_at": now + timedelta(minutes=LINK_MINUTES), "used_at": None,
        })
        return self._links.dumps(secret)

    async def pending(self, token: str, now: datetime) -> tuple[Organization, Person]:
        """Who a link is for, without using it (the page with the button)."""
        doc = await self._db.console_sign_ins.find_one({"_id": _hash(self._secret(token))})
        return await self._check(doc, now)

    async def use(self, token: str, now: datetime) -> tuple[str, ConsoleSession]:
        """Use the link (once): a new session, and the id the cookie carries."""
        secret = self._secret(token)
        doc = await self._db.console_sign_ins.find_one_and_update(
            {"_id": _hash(secret), "used_at": None, "expires_at": {"$gt": now}}, {"$set": {"used_at": now.timestamp()}},
        )
        if doc is None:
            await self._check(await self._db.console_sign_ins.find_one({"_id": _hash(secret)}), now)
            raise BadSignIn("This sign-in link was just used. Ask for a new one.")
        organization, person = await self._check(doc | {"used_at": None}, now)
        session_id = secrets.token_urlsafe(32)
        await self._db.console_sessions.insert_one({
            "_id": _hash(session_id), "organization_id": organization.slug, "email": person.email,
            "created_at": now, "last_seen": now.timestamp(), "expires_at": now + timedelta(days=SESSION_DAYS), "closed_at": None,
        })
        return session_id, ConsoleSession(_hash(session_id), organization, person, now, now + timedelta(days=SESSION_DAYS))

    def _secret(self, token: str) -> str:
        try:
            secret = self._links.loads(token[:200])
        except BadSignature:
            raise BadSignIn("This sign-in link is not valid. Ask for a new one.") from None
        if not isinstance(secret, str):
            raise BadSignIn("This sign-in link is not valid. Ask for a new one.")
        return secret

    async def _check(self, doc: dict[str, Any] | None, now: datetime) -> tuple[Organization, Person]:
        if doc is None:
            raise BadSignIn("This sign-in link is not valid. Ask for a new one.")
        if doc.get("used_at") is not None:
            raise BadSignIn("This sign-in link was used already. Ask for a new one.")
        if doc["expires_at"] <= now:
            raise BadSignIn(f"This sign-in link has expired (links last {LINK_MINUTES} minutes). Ask for a new one.")
        organization = await organization_by_slug(self._db, doc["organization_id"])
        person = organization.person(doc["email"]) if organization else None
        if organization is None or person is None:
            raise BadSignIn("This address no longer has access. Ask the company's owner.")
        return organization, person

    # -- the session ----------------------------------------------------------------------

    async def session(self, session_id: str, now: datetime) -> ConsoleSession | None:
        """The open session `session_id` names; None when it ended (or never was)."""
        doc = await self._db.console_sessions.find_one_and_update(
            {"_id": _hash(session_id[:100]), "closed_at": None, "expires_at": {"$gt": now},
             "last_seen": {"$gt": (now - timedelta(days=IDLE_DAYS)).timestamp()}},
            {"$set": {"last_seen": now.timestamp()}},
        )
        if doc is None:
            return None
        organization = await organization_by_slug(self._db, doc["organization_id"])
        person = organization.person(doc["email"]) if organization else None
        if organization is None or person is None:
            return None
        return ConsoleSession(doc["_id"], organization, person, doc["created_at"], doc["expires_at"])

    async def close(self, session_id: str, now: datetime) -> None:
        await self._db.console_sessions.update_one({"_id": _hash(session_id[:100])}, {"$set": {"closed_at": now.timestamp()}})


def sign_in_mail(
    templates: MailTemplates, places: list[tuple[Organization, Person, str]], base_url: str, to: str,
) -> Mail:
    """The email with a sign-in link for each organization `to` belongs to."""
    names = [organization.name for organization, _, _ in places]
    links = [
        (organization, f"{base_url}/console/sign-in/{token}",
         f"{organization.name} ({organization.slug})" if names.count(organization.name) > 1 else organization.name)
        for organization, _, token in places
    ]
    first = places[0][0]
    plain, html = templates.render(
        "sign_in", organization=first, links=links, minutes=LINK_MINUTES, preheader="Your sign-in link",
    )
    return Mail(
        to=to, subject=f"Sign in to {first.name}" if len(places) == 1 else "Your sign-in links",
        text=plain, html=html, sender_name=first.contact.sender_name or first.name,
    )


async def send_sign_in(
    sign_ins: SignIns, db: Database, templates: MailTemplates, email: str, base_url: str, now: datetime,
) -> bool:
    """Email `email` a sign-in link for each organization that lists it; False if none does
    (the page says the same either way: no one learns who has access)."""
    places = await sign_ins.places_of(email)
    if not places:
        return False
    issued = [(organization, person, await sign_ins.issue(organization, person, now)) for organization, person in places]
    mail = sign_in_mail(templates, issued, base_url, places[0][1].email)
    key = f"sign-in:{_hash(issued[0][2])}"
    return await outbox.enqueue(db, key, places[0][0].slug, mail, now)
