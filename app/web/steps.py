"""The step routes: start a session, show, submit, go back, change an earlier step.

Each route finds who is asking (`web/access`), counts the rate limits, and hands the
rest to the step engine (`app/steps/engine.py`: load → submit → save → view data); the
view it answers is rendered here as the fragment the widget swaps in.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pymongo.errors import PyMongoError
from quart import Blueprint, Response, render_template, request

from app.domain.place import KnownPlace
from app.i18n import N_, gettext
from app.sessions.repository import SessionConflict
from app.steps import returning
from app.steps.base import FormData
from app.steps.contact import normalize_email, normalize_phone
from app.steps.engine import StepEngine, Visit
from app.vendors.base import VendorError
from app.web import rate_limits, services
from app.web.access import current_visit, requesting_organization
from app.web.languages import speak, speak_the_browsers_language, visitors_locale
from app.web.problems import DATABASE_PROBLEM, HttpProblem
from app.web.protocol import SESSION_HEADER, SESSION_ID_HEADER
from app.web.rendering import view_response
from app.web.request_ids import current_request_id
from app.web.urls import external_url
from app.web.vendors import request_vendor

bp = Blueprint("steps", __name__)
log = logging.getLogger(__name__)

MAX_QUERY_VALUE = 100

# What a session saved before one of these failures stays saved: "Try again" shows its current step.
VENDOR_PROBLEM = N_("We can't reach the schedule right now. Please try again in a minute; what you entered is kept.")
# Another request of the session kept saving first (another tab, a script), or it expired meanwhile.
SESSION_BUSY = N_("This booking was changed somewhere else at the same moment. Please try again.")


def known_zone(name: str) -> bool:
    """An IANA time zone this server knows (what the visitor's browser said it is in)."""
    if not name or len(name) > 64 or not all(c.isalnum() or c in "/_+-" for c in name):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


async def _try_again(code: str, message: str, status: int = 503, retry_after: int = 30) -> Response:
    """A 503 (or `status`) fragment: nothing of the session changed, and a button shows the step again."""
    problem = HttpProblem(status, code, message, retry_after=retry_after)
    html = await render_template("steps/problem.html", problem=problem, restart=False, retry_url=external_url("steps.current_step"))
    response = Response(html, status=problem.status, content_type="text/html; charset=utf-8")
    response.headers["Retry-After"] = str(problem.retry_after)
    return response


@bp.errorhandler(VendorError)
async def vendor_unreachable(error: VendorError) -> Response:
    """The field-service system failed: the session is unchanged, the visitor can try again."""
    return await _try_again("vendor_unavailable", gettext(VENDOR_PROBLEM))


@bp.errorhandler(SessionConflict)
async def session_busy(error: SessionConflict) -> Response:
    return await _try_again("session_busy", gettext(SESSION_BUSY), status=409, retry_after=1)


@bp.errorhandler(PyMongoError)
async def database_unreachable(error: PyMongoError) -> Response:
    log.warning("database unreachable during a step request", extra={"problem": str(error)[:300]})
    return await _try_again("database_unavailable", gettext(DATABASE_PROBLEM))


@bp.errorhandler(HttpProblem)
async def http_problem(error: HttpProblem) -> Response:
    html = await render_template("steps/problem.html", problem=error, restart=error.status in {401, 410}, retry_url=None)
    response = Response(html, status=error.status, content_type="text/html; charset=utf-8")
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


bp.before_request(speak_the_browsers_language)


def _engine() -> StepEngine:
    service = services.current()
    now = service.clock()

    return StepEngine(
        db=service.db,
        events=service.events,
        vendors=lambda organization, scope: request_vendor(organization, now, scope=scope),
        now=now,
        session_ttl=service.settings.session_ttl,
        request_id=current_request_id(),
        notifier=service.notifier,
        photos=service.photos,
    )


async def _load(engine_saves: bool = True) -> tuple[StepEngine, Visit]:
    """The request's engine and session, counted against the rate limits: per session in the
    session itself when the engine saves it (every step route), else in the shared counts."""
    engine = _engine()
    await rate_limits.check(engine.db, "steps_per_ip", rate_limits.client_ip(), engine.now)
    visit = await current_visit(engine.db, engine.now)
    speak(visit.session.locale, visit.flow)
    if engine_saves:
        rate_limits.count_in_session(visit.session, engine.now)
    else:
        await rate_limits.check(engine.db, "steps_per_session", visit.session.id, engine.now)
    return engine, visit


@bp.post("/sessions")
async def start_session() -> Response:
    """Open a booking session for the page the visitor is on; answers with the first step."""
    engine = _engine()
    organization = await requesting_organization()
    await rate_limits.check(engine.db, "sessions_per_ip", rate_limits.client_ip(), engine.now)
    form = {k: v[:2000] for k, v in (await request.form).items()}
    flow_id = form.get("flow") or organization.routing.flow_for_path(urlsplit(form.get("page_url", "")).path or "/")
    flow = await services.current().config.flow(organization.slug, flow_id[:64])
    if flow is None:
        raise HttpProblem(404, "unknown_flow", gettext("This booking form does not exist."))
    locale = visitors_locale(form.get("locale"), organization)
    speak(locale, flow)
    zone = form.get("time_zone", "")
    visit, view, token = await engine.start(organization, flow, form, locale=locale, visitor_zone=zone if known_zone(zone) else None)
    response = await view_response(view)
    response.headers[SESSION_HEADER] = token
    response.headers[SESSION_ID_HEADER] = visit.session.id
    return response


@bp.get("/session/step")
async def current_step() -> Response:
    engine, visit = await _load()
    return await view_response(await engine.show(visit))


@bp.get("/session/steps/<step_id>")
async def view_step(step_id: str) -> Response:
    """The current step shown another way (the Timeslot calendar's month and day)."""
    engine, visit = await _load()
    query = {k: v[:MAX_QUERY_VALUE] for k, v in request.args.items()}
    return await view_response(await engine.show(visit, step_id, query))


@bp.post("/session/steps/<step_id>")
async def submit_step(step_id: str) -> Response:
    engine, visit = await _load()
    form = FormData((await request.form).to_dict(flat=False))

    async def count_confirmation() -> None:
        await rate_limits.check(engine.db, "confirms_per_session", visit.session.id, engine.now)

    return await view_response(await engine.submit(visit, step_id, form, before_confirm=count_confirmation))


@bp.post("/session/returning")
async def returning_customer() -> Response:
    """The Customer step's phone or email changed: the addresses on file for them, masked
    ("Welcome back"), or nothing. Look-ups are few per session and per address; past them,
    and for a number no one has, the answer is the same: nothing."""
    engine, visit = await _load(engine_saves=False)
    session = visit.session
    step = visit.flow.step(session.current_step)
    form = await request.form
    phone = normalize_phone((form.get("phone") or "")[:40])
    email = normalize_email((form.get("email") or "")[:320])
    places: list[KnownPlace] = []
    if step is not None and step.type == "Customer" and session.status == "active" and (phone or email):
        try:
            await rate_limits.check(engine.db, "returning_per_session", session.id, engine.now)
            await rate_limits.check(engine.db, "returning_per_ip", rate_limits.client_ip(), engine.now)
        except rate_limits.RateLimited:
            pass
        else:
            asked_zip = any(s.type == "ZipCode" for s in visit.flow.steps)
            zip_code = session.booking.zip_code if asked_zip else None
            vendor = engine.vendor(session, visit.organization)
            places = await returning.places_on_file(engine.db, session.organization_id, vendor, phone, email, zip_code)
            await returning.remember(engine.db, session.id, phone, email, places, session.expires_at)
    html = await render_template("steps/_returning.html", places=places, chosen="", errors={})
    return Response(html, content_type="text/html; charset=utf-8")


@bp.post("/session/back")
async def go_back() -> Response:
    engine, visit = await _load()
    return await view_response(await engine.back(visit))


@bp.post("/session/steps/<step_id>/edit")
async def edit_step(step_id: str) -> Response:
    """From the Summary: go back to one earlier step to change it."""
    engine, visit = await _load()
    return await view_response(await engine.edit(visit, step_id))
