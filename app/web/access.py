"""Who is asking: the organization behind a publishable key, and the session behind a token.

Shared by the HTML step routes and the JSON API; each turns HttpProblem into its own
kind of answer (an error fragment or a JSON error).
"""

from __future__ import annotations

import hmac
from datetime import datetime

from quart import request

from app.db import Database
from app.flows.models import Organization
from app.i18n import gettext
from app.sessions.model import BookingSession
from app.sessions.repository import session_for_token
from app.steps.engine import Visit
from app.web import services
from app.web.cors import allow_origin_for_this_request
from app.web.origins import origin_allowed
from app.web.problems import HttpProblem
from app.web.protocol import KEY_HEADER, SESSION_HEADER

MAX_CREDENTIAL_LENGTH = 200


def _header(name: str) -> str:
    return (request.headers.get(name) or "").strip()[:MAX_CREDENTIAL_LENGTH]


async def organization_for(key: str, origin: str | None) -> Organization:
    """The organization of a publishable key, if `origin` (when there is one) may use it."""
    key = key[:MAX_CREDENTIAL_LENGTH]
    if not key:
        raise HttpProblem(401, "missing_key", f"Send the publishable key in the {KEY_HEADER} header.")
    organization = await services.current().config.organization_by_key(key)
    if organization is None or not hmac.compare_digest(organization.publishable_key, key):
        raise HttpProblem(401, "unknown_key", "This publishable key is not known.")
    # Browsers always send Origin on cross-origin requests; server-to-server calls have none.
    if origin is not None and not origin_allowed(origin, organization.allowed_origins):
        raise HttpProblem(403, "origin_not_allowed", f"This key may not be used from {origin[:100]}.")
    return organization


def session_of_organization(session: BookingSession | None, organization: Organization) -> BookingSession:
    if session is None:
        raise HttpProblem(410, "session_expired", gettext("This booking session has expired."))
    if session.organization_id != organization.slug:
        raise HttpProblem(403, "session_of_other_organization", gettext("This booking session belongs to another company."))
    return session


async def requesting_organization() -> Organization:
    """The organization whose publishable key the request carries, from an allowed origin."""
    key = _header(KEY_HEADER) or (request.args.get("key") or "")
    origin = request.headers.get("Origin")
    organization = await organization_for(key, origin)
    if origin is not None:
        allow_origin_for_this_request(origin)
    return organization


async def current_visit(db: Database, now: datetime) -> Visit:
    """The live session a request's token opens, checked against the requesting organization."""
    organization = await requesting_organization()
    token = _header(SESSION_HEADER)
    if not token:
        raise HttpProblem(401, "missing_session", gettext("This booking session has not started."))
    session = session_of_organization(await session_for_token(db, token, now), organization)
    flow = await services.current().config.flow(organization.slug, session.flow_id)
    if flow is None or not set(session.steps) <= set(flow.step_ids):
        raise HttpProblem(410, "flow_changed", gettext("This booking form has changed since you started."))
    return Visit(organization, flow, session)
