"""The step routes: start a session, show, submit, go back, change an earlier step.

Each request reads top to bottom: load the session → the step's handler checks the
form and moves the session → save → render the step the session is now on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pymongo.errors import PyMongoError
from quart import Blueprint, Response, current_app, render_template, request

from app import clock, rate_limits
from app.bookings.confirm import booking_for_session, mark_booked
from app.db import current_db
from app.events.recorder import EventItem, record_server_events
from app.flows.models import Flow
from app.flows.repository import flow_by_id
from app.rate_limits import RateLimited
from app.sessions.attribution import attribution_from
from app.sessions.model import BookingDraft
from app.sessions.navigation import advance, can_visit, go_to
from app.sessions.navigation import go_back as go_to_previous
from app.sessions.repository import SessionConflict, create_session, save_session
from app.steps.base import FormData, StepContext
from app.steps.registry import handler_for
from app.steps.zip_code import is_zip_code
from app.vendors.base import VendorError
from app.web.access import AccessDenied, Visit, current_visit, requesting_organization
from app.web.protocol import SESSION_HEADER, SESSION_ID_HEADER
from app.web.rendering import render_step, step_context
from app.web.urls import external_url
from app.web.vendors import request_vendor

bp = Blueprint("steps", __name__)
log = logging.getLogger(__name__)

MAX_QUERY_VALUE = 100



def _ttl() -> timedelta:
    return current_app.extensions["settings"].session_ttl


# What a session saved before one of these failures stays saved: "Try again" shows its current step.
VENDOR_PROBLEM = "We can't reach the schedule right now. Please try again in a minute; what you entered is kept."
DATABASE_PROBLEM = "We can't reach our booking system right now. Please try again in a minute."
BOOKED_NOTICE = "This booking is already made, so it can't be changed here. To change it, please call us."


async def _try_again(code: str, message: str) -> Response:
    """A 503 fragment: nothing of the session changed, and a button shows the step again."""
    problem = AccessDenied(503, code, message)
    html = await render_template("steps/problem.html", problem=problem, restart=False, retry_url=external_url("steps.current_step"))
    response = Response(html, status=503, content_type="text/html; charset=utf-8")
    response.headers["Retry-After"] = "30"
    return response


@bp.errorhandler(VendorError)
async def vendor_unreachable(error: VendorError) -> Response:
    """The field-service system failed: the session is unchanged, the visitor can try again."""
    return await _try_again("vendor_unavailable", VENDOR_PROBLEM)


@bp.errorhandler(PyMongoError)
async def database_unreachable(error: PyMongoError) -> Response:
    log.warning("database unreachable during a step request", extra={"problem": str(error)[:300]})
    return await _try_again("database_unavailable", DATABASE_PROBLEM)


@bp.errorhandler(AccessDenied)
async def access_denied(error: AccessDenied) -> Response:
    html = await render_template("steps/problem.html", problem=error, restart=error.status in {401, 410}, retry_url=None)
    response = Response(html, status=error.status, content_type="text/html; charset=utf-8")
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _load() -> tuple[Visit, StepContext]:
    """The request's session and current step, counted against the rate limits."""
    now = clock.now()
    await rate_limits.check(current_db(), "steps_per_ip", rate_limits.client_ip(), now)
    visit, ctx = await _reload(now)
    await rate_limits.check(current_db(), "steps_per_session", visit.session.id, now)
    return visit, ctx


async def _reload(now: datetime) -> tuple[Visit, StepContext]:
    visit = await current_visit(current_db(), now)
    return visit, step_context(current_db(), visit, request_vendor(visit.organization, now, visit.session), now)


def _shown_step(visit: Visit) -> str:
    return "Confirmation" if visit.session.status == "booked" else visit.session.current_step


async def _record(visit: Visit, now: datetime, items: list[EventItem]) -> None:
    await record_server_events(current_db(), current_app.extensions["events"], visit.session, items, now)


async def _render_and_record(
    visit: Visit, ctx: StepContext, happened: list[EventItem] | None = None, **render_args: object
) -> Response:
    """Render the current step, then record what happened and what its view saw, in one go."""
    response = await render_step(ctx, visit, **render_args)  # type: ignore[arg-type]
    await _record(visit, ctx.now, (happened or []) + [(ctx.step.id, kind, data) for kind, data in ctx.events])
    return response


async def _save_and_render(
    visit: Visit,
    ctx: StepContext,
    *,
    shown_before: str,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    try:
        await save_session(current_db(), visit.session, ctx.now, _ttl())
    except SessionConflict:
        # Another request of this session was saved first (a double click, a second tab):
        # show the visitor where the session is now (the same request: not counted again).
        booked = visit.session.booking_reference if visit.session.status == "booked" else None
        visit, ctx = await _reload(ctx.now)
        if booked is not None and visit.session.status != "booked":
            # This request stored a booking: it wins over whatever was saved meanwhile.
            visit, ctx = await _keep_booking(visit, ctx, booked)
        return await render_step(ctx, visit)
    happened: list[EventItem] = [(ctx.step.id, kind, data) for kind, data in ctx.events]
    if _shown_step(visit) != shown_before:
        happened.append((_shown_step(visit), "step_shown", {"direction": visit.session.direction}))
    # What was chosen may have changed what the vendor is asked (service, ZIP code).
    shown = step_context(current_db(), visit, request_vendor(visit.organization, ctx.now, visit.session), ctx.now)
    return await _render_and_record(visit, shown, happened, errors=errors, notice=notice)


async def _keep_booking(visit: Visit, ctx: StepContext, reference: str) -> tuple[Visit, StepContext]:
    """Save the session as booked (with `reference`), whatever else changed it meanwhile."""
    for _ in range(10):
        session = visit.session
        if session.status == "booked":
            return visit, ctx
        mark_booked(session, {"_id": reference})
        session.current_step = session.steps[-1]
        session.completed_steps = list(session.steps)
        try:
            await save_session(current_db(), session, ctx.now, _ttl())
            return visit, ctx
        except SessionConflict:
            visit, ctx = await _reload(ctx.now)
    raise SessionConflict(visit.session.id)


async def _booked_meanwhile(visit: Visit, ctx: StepContext) -> tuple[Visit, StepContext]:
    """A session on its last step whose booking is stored but not yet on the session (the
    request that stored it failed before saving): booked, before anything changes it."""
    session = visit.session
    if session.status == "booked" or session.current_step != session.steps[-1]:
        return visit, ctx
    booking = await booking_for_session(current_db(), session.id)
    if booking is None or booking["status"] == "slot_taken":
        return visit, ctx
    return await _keep_booking(visit, ctx, booking["_id"])


async def _refuse_change(visit: Visit, ctx: StepContext) -> Response:
    """A booked session stays as it was booked: the Confirmation, saying why."""
    return await render_step(ctx, visit, notice=BOOKED_NOTICE, status=409)


def _prefilled_state(flow: Flow, form: dict[str, str]) -> tuple[dict[str, dict[str, str]], BookingDraft]:
    state: dict[str, dict[str, str]] = {}
    draft = BookingDraft()
    zip_code = form.get("zip", "").strip()
    if is_zip_code(zip_code):
        if "ZipCode" in flow.step_ids:
            state["ZipCode"] = {"zip_code": zip_code}
        else:
            draft.zip_code = zip_code
    customer: dict[str, str] = {}
    first, _, last = form.get("name", "").strip()[:200].rpartition(" ")
    customer.update({"first_name": first or last, "last_name": last if first else ""} if last else {})
    for field in ("email", "phone"):
        if form.get(field, "").strip():
            customer[field] = form[field].strip()[:200]
    if customer:
        state["Customer"] = customer
    return state, draft


@bp.post("/sessions")
async def start_session() -> Response:
    """Open a booking session for the page the visitor is on; answers with the first step."""
    db, now = current_db(), clock.now()
    organization = await requesting_organization()
    await rate_limits.check(db, "sessions_per_ip", rate_limits.client_ip(), now)
    form = {k: v[:2000] for k, v in (await request.form).items()}
    page_url = form.get("page_url", "")
    flow_id = form.get("flow") or organization.routing.flow_for_path(urlsplit(page_url).path or "/")
    flow = await flow_by_id(db, organization.slug, flow_id[:64])
    if flow is None:
        raise AccessDenied(404, "unknown_flow", "This booking form does not exist.")
    saved_state, draft = _prefilled_state(flow, form)
    session, token = await create_session(
        db,
        organization_id=organization.slug,
        flow_id=flow.id,
        steps=flow.step_ids,
        now=now,
        ttl=_ttl(),
        attribution=attribution_from(page_url, form.get("referrer", "")),
        booking=draft,
        saved_state=saved_state,
    )
    visit = Visit(organization, flow, session)
    started: list[EventItem] = [
        (None, "session_started", {"attribution": session.attribution, "flow": flow.id}),
        (session.current_step, "step_shown", {"direction": "none"}),
    ]
    response = await _render_and_record(visit, step_context(db, visit, request_vendor(organization, now, session), now), started)
    response.headers[SESSION_HEADER] = token
    response.headers[SESSION_ID_HEADER] = session.id
    return response


@bp.get("/session/step")
async def current_step() -> Response:
    visit, ctx = await _load()
    return await _render_and_record(visit, ctx)


@bp.get("/session/steps/<step_id>")
async def view_step(step_id: str) -> Response:
    """The current step shown another way (the Timeslot calendar's month and day)."""
    visit, ctx = await _load()
    query = {k: v[:MAX_QUERY_VALUE] for k, v in request.args.items()} if step_id == ctx.step.id else {}
    return await _render_and_record(visit, ctx, query=query)


@bp.post("/session/steps/<step_id>")
async def submit_step(step_id: str) -> Response:
    visit, ctx = await _load()
    session = visit.session
    if session.status == "booked" and step_id != session.steps[-1]:
        return await _refuse_change(visit, ctx)
    if session.status == "booked" or step_id != session.current_step:
        # A form from a step the session has left (double click, second tab).
        return await render_step(ctx, visit)
    if ctx.step.type == "Summary":
        await rate_limits.check(current_db(), "confirms_per_session", session.id, ctx.now)
    form = FormData((await request.form).to_dict(flat=False))
    result = await handler_for(ctx.step.type).submit(ctx, form)
    ctx.record("step_submitted", accepted=not result.errors)
    if result.errors:
        ctx.record("validation_error", fields=sorted(result.errors))
        # 200, not 422: the browser would log every 4xx in the console of the customer's
        # page; the messages are in the fragment, tied to their fields.
        return await _save_and_render(visit, ctx, shown_before=step_id, errors=result.errors)
    if result.goto:
        go_to(session, result.goto)
    elif result.advance:
        advance(session)
    return await _save_and_render(visit, ctx, shown_before=step_id, notice=result.notice)


@bp.post("/session/back")
async def go_back() -> Response:
    visit, ctx = await _load()
    visit, ctx = await _booked_meanwhile(visit, ctx)
    shown_before = _shown_step(visit)
    if visit.session.status != "booked" and not await handler_for(ctx.step.type).back(ctx):
        go_to_previous(visit.session)
    return await _save_and_render(visit, ctx, shown_before=shown_before)


@bp.post("/session/steps/<step_id>/edit")
async def edit_step(step_id: str) -> Response:
    """From the Summary: go back to one earlier step to change it."""
    visit, ctx = await _load()
    visit, ctx = await _booked_meanwhile(visit, ctx)
    if visit.session.status == "booked":
        return await _refuse_change(visit, ctx)
    if not can_visit(visit.session, step_id):
        return await render_step(ctx, visit)
    shown_before = _shown_step(visit)
    go_to(visit.session, step_id)
    return await _save_and_render(visit, ctx, shown_before=shown_before)
