"""The company's console: its people sign in by an emailed link and work their inbox.

Served on the scheduler's own origin, never inside a customer's page. The session cookie
(quart-auth: signed, HttpOnly, SameSite=Lax, Secure outside development, path /console)
names a console session stored in MongoDB, so signing out ends it everywhere, and a
person taken out of the organization's YAML is out at their next click. Every page is
scoped to the signed-in person's organization: another company's booking is not found.
POSTs from another origin are refused (on top of SameSite). Pages are plain HTML forms
and links: they work on any phone, without JavaScript.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from quart import Blueprint, Response, g, redirect, render_template, request
from quart_auth import Action, AuthUser, current_user, login_user, logout_user

from app.bookings.notices import mail_templates
from app.bookings.repository import BookingChanged, booking_by_reference
from app.console.actions import NotNow, cancel_for_office, mark_handled, try_again
from app.console.inbox import (
    STATUSES,
    BookingFilter,
    booking_record,
    bookings_csv,
    counts_by_status,
    export_bookings,
    list_bookings,
    services_and_flows,
)
from app.console.leads import LeadFilter, lead_counts, list_leads, set_status
from app.console.people import BadSignIn, ConsoleSession, send_sign_in
from app.domain.lead import LEAD_REASONS, LEAD_STATUSES
from app.events.funnel import date_range, funnel
from app.flows.repository import flow_by_id
from app.mail.render import MailTemplates
from app.steps.contact import format_phone
from app.vendors.base import AvailabilityScope, VendorError
from app.web import rate_limits, services
from app.web.dashboard import chart
from app.web.photos import photo_link
from app.web.problems import HttpProblem
from app.web.vendors import request_vendor
from app.webhooks.deliveries import deliveries_of, resend, send_test_event
from app.webhooks.endpoints import (
    EVENT_TYPES,
    BadEndpoint,
    Endpoint,
    change_events,
    create_endpoint,
    delete_endpoint,
    endpoint_by_id,
    list_endpoints,
    own_netlocs,
    rotate_secret,
    set_enabled,
)

bp = Blueprint("console", __name__, url_prefix="/console")

STYLESHEET = Path(__file__).resolve().parent.parent.parent / "static" / "console.css"
COOKIE = "scheduler_console"
OPEN_PATHS = {"/console/sign-in", "/console/console.css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a sign-in link must not leak to another site
    "Cache-Control": "no-store",
}


@cache
def _templates() -> MailTemplates:
    return mail_templates()


def person() -> ConsoleSession:
    """The signed-in person (pages past the sign-in have one: `before_request` saw to it)."""
    found: ConsoleSession = g.console
    return found


async def _page(template: str, status: int = 200, **variables: Any) -> Response:
    html = await render_template(
        f"console/{template}", console=g.get("console"), format_phone=format_phone, statuses=STATUSES, **variables,
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


@bp.errorhandler(HttpProblem)
async def problem_page(error: HttpProblem) -> Response:
    response = await _page("problem.html", status=error.status, problem=error)
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.errorhandler(VendorError)
async def vendor_problem(error: VendorError) -> Response:
    return await problem_page(HttpProblem(503, "vendor_unavailable", "Your schedule didn't answer, so nothing was changed. Please try again in a minute.", retry_after=30))


@bp.before_request
async def signed_in_or_sign_in() -> Response | None:
    if request.method == "POST":
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.host:
            raise HttpProblem(403, "cross_origin", "This form can only be sent from the console itself.")
    g.console = None
    if request.path in OPEN_PATHS or request.path.startswith("/console/sign-in/"):
        return None
    session_id = current_user.auth_id
    found = await services.current().sign_ins.session(session_id, services.now()) if session_id else None
    if found is None:
        if session_id:
            logout_user()  # the session ended: the cookie goes too
        if request.method == "GET":
            return redirect("/console/sign-in?" + urlencode({"next": request.full_path.rstrip("?")[:300]}))  # type: ignore[return-value]
        raise HttpProblem(401, "signed_out", "You were signed out. Please sign in again.")
    g.console = found
    return None


@bp.after_request
async def console_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    endpoint = services.current().settings.aws_endpoint_url
    if endpoint and endpoint.startswith("http://"):  # a local S3 (make run): photos redirect there, over http
        policy = response.headers["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = policy.replace("img-src 'self' https:", f"img-src 'self' https: {endpoint}")
    return response


@bp.get("/console.css")
async def stylesheet() -> Response:
    if services.current().settings.templates_auto_reload:  # a designer editing it sees each change
        return Response(STYLESHEET.read_text(encoding="utf-8"), content_type="text/css; charset=utf-8", headers={"Cache-Control": "no-cache"})
    return Response(_stylesheet(), content_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=300"})


@cache
def _stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


def _next_path(raw: str | None) -> str:
    """Where to go after signing in: only a console path of ours, never another site."""
    path = (raw or "")[:300]
    return path if path.startswith("/console/") and not path.startswith("//") and "\\" not in path else "/console/bookings"


# -- signing in and out ---------------------------------------------------------------


@bp.get("")
@bp.get("/")
async def home() -> Response:
    return redirect("/console/bookings")  # type: ignore[return-value]


@bp.get("/sign-in")
async def sign_in_form() -> Response:
    return await _page("sign_in.html", sent_to=None, problem=None, next=_next_path(request.args.get("next")),
                       signed_out=request.args.get("signed_out") == "1")


@bp.post("/sign-in")
async def ask_for_link() -> Response:
    form = await request.form
    email = " ".join((form.get("email") or "").split())[:254].lower()
    next_path = _next_path(form.get("next"))
    if "@" not in email or len(email) < 3:
        return await _page("sign_in.html", status=422, sent_to=None, problem="Enter the email address the company listed for you.", next=next_path)
    db, now = services.current_db(), services.now()
    await rate_limits.check(db, "sign_ins_per_ip", rate_limits.client_ip(), now)
    await rate_limits.check(db, "sign_ins_per_email", email, now)
    current = services.current()
    if await send_sign_in(current.sign_ins, db, _templates(), email, current.base_url, now):
        current.wake_mail()
    # The same answer whether or not the address has access: no one learns who does.
    return await _page("sign_in.html", sent_to=email, problem=None, next=next_path)


@bp.get("/sign-in/<token>")
async def sign_in_link(token: str) -> Response:
    """The link from the email shows a button: fetching a link (a mail scanner does) signs no one in."""
    try:
        organization, who = await services.current().sign_ins.pending(token, services.now())
    except BadSignIn as exc:
        return await _page("sign_in.html", status=410, sent_to=None, problem=str(exc), next="/console/bookings")
    return await _page("sign_in_link.html", organization=organization, who=who, next=_next_path(request.args.get("next")))


@bp.post("/sign-in/<token>")
async def use_sign_in_link(token: str) -> Response:
    try:
        session_id, _ = await services.current().sign_ins.use(token, services.now())
    except BadSignIn as exc:
        return await _page("sign_in.html", status=410, sent_to=None, problem=str(exc), next="/console/bookings")
    login_user(AuthUser(session_id, Action.WRITE_PERMANENT))
    return redirect(_next_path((await request.form).get("next")), 303)  # type: ignore[return-value]


@bp.post("/sign-out")
async def sign_out() -> Response:
    await services.current().sign_ins.close(current_user.auth_id or "", services.now())
    logout_user()
    return redirect("/console/sign-in?signed_out=1", 303)  # type: ignore[return-value]


# -- the inbox --------------------------------------------------------------------------


@bp.get("/bookings")
async def bookings() -> Response:
    me, db = person(), services.current_db()
    wanted = BookingFilter.parse(request.args)
    found = await list_bookings(db, me.organization.slug, wanted)
    service_choices, flow_choices = await services_and_flows(db, me.organization.slug)
    return await _page(
        "bookings.html", status=422 if wanted.problems else 200, page=found, filter=wanted,
        counts=await counts_by_status(db, me.organization.slug), service_choices=service_choices,
        flow_choices=flow_choices, query=lambda **changes: urlencode(wanted.as_query_string(**changes)),
        zone=me.organization.zone,
    )


@bp.get("/bookings.csv")
async def bookings_export() -> Response:
    me = person()
    wanted = BookingFilter.parse(request.args)
    found = await export_bookings(services.current_db(), me.organization.slug, wanted)
    stamp = services.now().astimezone(me.organization.zone).strftime("%Y-%m-%d")
    return Response(bookings_csv(found, me.organization.zone), content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="bookings-{me.organization.slug}-{stamp}.csv"',
    })


@bp.get("/bookings/<reference>")
async def booking(reference: str) -> Response:
    me = person()
    record = await booking_record(services.current_db(), me.organization.slug, reference, me.organization.zone)
    if record is None:
        raise HttpProblem(404, "not_found", "There is no such booking.")
    photo_url = photo_link if services.current().photos is not None else None
    return await _page("booking.html", record=record, b=record.booking, zone=me.organization.zone, done=request.args.get("done"), photo_url=photo_url)


async def _acting_on(reference: str) -> tuple[ConsoleSession, Any, datetime]:
    me, db, now = person(), services.current_db(), services.now()
    await rate_limits.check(db, "console_actions_per_person", me.id_hash, now)
    found = await booking_by_reference(db, reference[:64])
    if found is None or found.organization_id != me.organization.slug:
        raise HttpProblem(404, "not_found", "There is no such booking.")
    return me, found, now


def _not_now(exc: NotNow | BookingChanged) -> HttpProblem:
    """An office action that does not apply (any more) to the booking as it is now."""
    return HttpProblem(409, "not_now", str(exc) if isinstance(exc, NotNow) else "The booking just changed: look again.")


def _done(reference: str, what: str) -> Response:
    return redirect(f"/console/bookings/{reference}?done={what}", 303)  # type: ignore[return-value]


@bp.post("/bookings/<reference>/try-again")
async def booking_try_again(reference: str) -> Response:
    me, found, now = await _acting_on(reference)
    try:
        await try_again(services.current_db(), found, me.person.email, now)
    except (NotNow, BookingChanged) as exc:
        raise _not_now(exc) from None
    services.current().outbox.wake()
    return _done(found.reference, "retried")


@bp.post("/bookings/<reference>/handled")
async def booking_handled(reference: str) -> Response:
    me, found, now = await _acting_on(reference)
    note = (await request.form).get("note", "")[:2000]
    try:
        await mark_handled(services.current_db(), found, me.person.email, note, now)
    except (NotNow, BookingChanged) as exc:
        raise _not_now(exc) from None
    handled = await booking_by_reference(services.current_db(), found.reference)
    if handled is not None:  # the company's own systems hear it is confirmed now
        await services.current().notifier.booking_event("booking.confirmed", me.organization, handled, now)
    return _done(found.reference, "handled")


@bp.post("/bookings/<reference>/cancel")
async def booking_cancel(reference: str) -> Response:
    me, found, now = await _acting_on(reference)
    reason = (await request.form).get("reason", "")[:2000]
    try:
        vendor = request_vendor(me.organization, now, AvailabilityScope.of_booking(found.service, found.zip_code))
        await cancel_for_office(
            services.current_db(), me.organization, found, me.person.email, reason, now, services.current().notifier, vendor,
        )
    except (NotNow, BookingChanged) as exc:
        raise _not_now(exc) from None
    return _done(found.reference, "cancelled")


# -- leads ------------------------------------------------------------------------------


@bp.get("/leads")
async def leads() -> Response:
    me, db = person(), services.current_db()
    wanted = LeadFilter.parse(request.args)
    return await _page(
        "leads.html", page=await list_leads(db, me.organization.slug, wanted), filter=wanted,
        counts=await lead_counts(db, me.organization.slug), lead_statuses=LEAD_STATUSES, lead_reasons=LEAD_REASONS,
        query=lambda **changes: urlencode(wanted.as_query_string(**changes)), zone=me.organization.zone,
    )


@bp.post("/leads/<lead_id>/status")
async def lead_status(lead_id: str) -> Response:
    me, db, now = person(), services.current_db(), services.now()
    await rate_limits.check(db, "console_actions_per_person", me.id_hash, now)
    form = await request.form
    try:
        found = await set_status(db, me.organization.slug, lead_id, form.get("status", "")[:20], me.person.email, now)
    except ValueError as exc:
        raise HttpProblem(422, "bad_status", str(exc)) from None
    if not found:
        raise HttpProblem(404, "not_found", "There is no such lead.")
    back = form.get("back", "")[:500]
    return redirect(back if back.startswith("/console/leads") and not back.startswith("//") else "/console/leads", 303)  # type: ignore[return-value]


# -- the funnel -------------------------------------------------------------------------


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        raise ValueError(f"{(text or '')[:10]!r} is not a date (use YYYY-MM-DD)") from None


@bp.get("/funnel")
async def funnel_page() -> Response:
    me, db, now = person(), services.current_db(), services.now()
    flows = await db.flows.find({"organization_id": me.organization.slug}, {"flow_id": 1, "name": 1}).sort("position", 1).to_list()
    flow = await flow_by_id(db, me.organization.slug, (request.args.get("flow") or me.organization.routing.default_flow)[:64])
    context: dict[str, Any] = {"flows": flows, "flow": flow, "result": None, "problem": None, "chart": None,
                               "start": request.args.get("start", "")[:10], "end": request.args.get("end", "")[:10]}
    try:
        start, end = date_range(_day(request.args.get("start")), _day(request.args.get("end")), me.organization, now)
    except ValueError as exc:
        return await _page("funnel.html", status=422, **context | {"problem": str(exc)})
    if flow is None:
        return await _page("funnel.html", status=404, **context | {"problem": "No such form."})
    result = await funnel(db, me.organization, flow, start, end, now)
    return await _page("funnel.html", **context | {"result": result, "chart": chart(result),
                                                     "start": start.isoformat(), "end": end.isoformat()})


# -- webhooks (owners) --------------------------------------------------------------------


def owner() -> ConsoleSession:
    me = person()
    if not me.is_owner:
        raise HttpProblem(403, "owners_only", "Only the company's owners manage webhooks.")
    return me


async def _endpoint(endpoint_id: str) -> tuple[ConsoleSession, Endpoint]:
    me = owner()
    await rate_limits.check(services.current_db(), "console_actions_per_person", me.id_hash, services.now())
    found = await endpoint_by_id(services.current_db(), me.organization.slug, endpoint_id)
    if found is None:
        raise HttpProblem(404, "not_found", "There is no such endpoint.")
    return me, found


def _own_hosts() -> frozenset[str]:
    """This scheduler as a webhook must not call it: its public address, and the one asked."""
    return own_netlocs(services.current().base_url, f"{request.scheme}://{request.host}")


@bp.get("/webhooks")
async def webhooks_page() -> Response:
    me = owner()
    return await _page("webhooks.html", endpoints=await list_endpoints(services.current_db(), me.organization.slug),
                       event_types=EVENT_TYPES, problem=None, form={})


@bp.post("/webhooks")
async def webhook_create() -> Response:
    me, db, now = owner(), services.current_db(), services.now()
    await rate_limits.check(db, "console_actions_per_person", me.id_hash, now)
    form = await request.form
    url, description = form.get("url", "")[:2100], form.get("description", "")[:500]
    events = [e[:40] for e in form.getlist("events")][:20]
    try:
        created = await create_endpoint(
            db, me.organization.slug, url, events, description, me.person.email, now,
            services.current().settings.webhooks_may_be_private, _own_hosts(),
        )
    except BadEndpoint as exc:
        return await _page("webhooks.html", status=422, endpoints=await list_endpoints(db, me.organization.slug),
                           event_types=EVENT_TYPES, problem=str(exc), form={"url": url, "description": description, "events": events})
    return redirect(f"/console/webhooks/{created.id}?done=created", 303)  # type: ignore[return-value]


@bp.get("/webhooks/<endpoint_id>")
async def webhook_page(endpoint_id: str) -> Response:
    _, found = await _endpoint(endpoint_id)
    return await _page("webhook.html", endpoint=found, event_types=EVENT_TYPES, zone=person().organization.zone,
                       deliveries=await deliveries_of(services.current_db(), found.id), done=request.args.get("done"),
                       now=services.now())


def _to_endpoint(found: Endpoint, done: str) -> Response:
    return redirect(f"/console/webhooks/{found.id}?done={done}", 303)  # type: ignore[return-value]


@bp.post("/webhooks/<endpoint_id>/events")
async def webhook_events(endpoint_id: str) -> Response:
    _, found = await _endpoint(endpoint_id)
    try:
        await change_events(services.current_db(), found, [e[:40] for e in (await request.form).getlist("events")][:20])
    except BadEndpoint as exc:
        raise HttpProblem(422, "bad_events", str(exc)) from None
    return _to_endpoint(found, "events")


@bp.post("/webhooks/<endpoint_id>/test")
async def webhook_test(endpoint_id: str) -> Response:
    me, found = await _endpoint(endpoint_id)
    if not found.enabled:
        raise HttpProblem(409, "disabled", "Enable the endpoint first.")
    await send_test_event(services.current_db(), found, me.person.email, services.now())
    services.current().wake_webhooks()
    return _to_endpoint(found, "test")


@bp.post("/webhooks/<endpoint_id>/rotate")
async def webhook_rotate(endpoint_id: str) -> Response:
    _, found = await _endpoint(endpoint_id)
    await rotate_secret(services.current_db(), found, services.now())
    return _to_endpoint(found, "rotated")


@bp.post("/webhooks/<endpoint_id>/enable")
async def webhook_enable(endpoint_id: str) -> Response:
    _, found = await _endpoint(endpoint_id)
    await set_enabled(services.current_db(), found, True)
    return _to_endpoint(found, "enabled")


@bp.post("/webhooks/<endpoint_id>/disable")
async def webhook_disable(endpoint_id: str) -> Response:
    me, found = await _endpoint(endpoint_id)
    await set_enabled(services.current_db(), found, False, f"disabled by {me.person.email}")
    return _to_endpoint(found, "disabled")


@bp.post("/webhooks/<endpoint_id>/delete")
async def webhook_delete(endpoint_id: str) -> Response:
    _, found = await _endpoint(endpoint_id)
    await delete_endpoint(services.current_db(), found)
    return redirect("/console/webhooks", 303)  # type: ignore[return-value]


@bp.post("/webhooks/<endpoint_id>/deliveries/<delivery_id>/resend")
async def webhook_resend(endpoint_id: str, delivery_id: str) -> Response:
    me, found = await _endpoint(endpoint_id)
    if not found.enabled:
        raise HttpProblem(409, "disabled", "Enable the endpoint first.")
    db = services.current_db()
    if await db.webhook_deliveries.count_documents({"_id": delivery_id[:64], "endpoint_id": found.id}) != 1:
        raise HttpProblem(404, "not_found", "There is no such delivery.")
    await resend(db, me.organization.slug, delivery_id, services.now())
    services.current().wake_webhooks()
    return _to_endpoint(found, "resent")
