"""The step engine: every step request is load → submit → save → view data.

`web/steps.py` finds who is asking (the key, the origin, the token) and counts the rate
limits; everything after that happens here, the same way on every path:

- the vendor is built once per request (and told what the visitor chose, once they
  choose it);
- the view is built first, then the session is saved once with everything the request
  did: its changes, the numbers of the events it recorded (what happened on the step and
  what its view saw, on every path: a stale form, a refused change and a lost race too)
  and its count against the per-session rate limit. Load and save: two round trips;
- the save is a compare-and-swap: a request that lost the race shows where the session
  is now, and a booking it stored wins over whatever was saved meanwhile;
- the answer is a `StepView`: a template and its variables, which `web/` renders.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.bookings.confirm import mark_booked
from app.bookings.notices import Notifier
from app.bookings.repository import booking_for_session
from app.db import Database
from app.domain.booking import Booking
from app.events.publishers import EventPublisher
from app.events.recorder import EventItem, number_events, publish_events, record_with_old_counter
from app.flows.models import Flow, Organization
from app.i18n import N_, gettext
from app.photos.uploads import PhotoUploads
from app.sessions.attribution import attribution_from
from app.sessions.model import BookingDraft, BookingSession
from app.sessions.navigation import advance, can_visit, go_to, previous_step
from app.sessions.navigation import go_back as go_to_previous
from app.sessions.repository import SessionConflict, insert_session, new_session, save_session, session_by_id
from app.steps.base import FormData, StepContext
from app.steps.contact import format_phone
from app.steps.registry import handler_for
from app.steps.zip_code import is_zip_code
from app.vendors.base import AvailabilityScope, VendorStrategy

BOOKED_NOTICE = N_("This booking is already made, so it can't be changed here. To change it, please call us.")
CONFIRMATION_TEMPLATE = "steps/confirmation.html"
# How often a booking stored by this request is written onto a session others keep saving.
_KEEP_BOOKING_ATTEMPTS = 10
# How often a request that changes nothing but its count and events saves again after
# another request of the session saved first.
_SAVE_ATTEMPTS = 5

# Builds the organization's vendor for the request (answering for `scope`).
VendorFactory = Callable[[Organization, AvailabilityScope], VendorStrategy]


@dataclass
class Visit:
    """One request's organization, flow and booking session."""

    organization: Organization
    flow: Flow
    session: BookingSession


@dataclass
class StepView:
    """What to show: a step's template (or the confirmation) with its variables."""

    template: str
    variables: dict[str, Any]
    status: int = 200
    step_id: str | None = None  # None for the confirmation
    has_back: bool = False


@dataclass
class StepEngine:
    """One request's engine: its database, event publisher, vendor factory and instant."""

    db: Database
    events: EventPublisher
    vendors: VendorFactory
    now: datetime
    session_ttl: timedelta
    request_id: str | None = None
    notifier: Notifier | None = None
    # The session's photos of the problem (None: no uploads bucket, flows ask for none).
    photos: PhotoUploads | None = None
    _vendor: VendorStrategy | None = field(default=None, init=False)

    # -- the operations --------------------------------------------------------------

    async def start(
        self, organization: Organization, flow: Flow, form: dict[str, str], locale: str = "en_US", visitor_zone: str | None = None,
    ) -> tuple[Visit, StepView, str]:
        """Open a session on the flow's first step (pre-filled from `form`), in the visitor's
        locale and time zone; its view and token."""
        page_url = form.get("page_url", "")
        saved_state, draft = prefilled_state(flow, form)
        session, token = new_session(
            organization_id=organization.slug,
            flow_id=flow.id,
            steps=flow.step_ids,
            now=self.now,
            ttl=self.session_ttl,
            attribution=attribution_from(page_url, form.get("referrer", "")),
            booking=draft,
            saved_state=saved_state,
            locale=locale,
            visitor_zone=visitor_zone,
        )
        visit = Visit(organization, flow, session)
        started: list[EventItem] = [
            (None, "session_started", {"attribution": session.attribution, "flow": flow.id}),
            (session.current_step, "step_shown", {"direction": "none"}),
        ]
        ctx = self.context(visit)
        view = await step_view(ctx)
        events = number_events(session, started + _seen(ctx), self.now, self.request_id)
        await insert_session(self.db, session)
        await publish_events(self.events, events)
        return visit, view, token

    async def show(self, visit: Visit, step_id: str | None = None, query: dict[str, str] | None = None) -> StepView:
        """The current step; `query` (the Timeslot calendar's month and day) when it is `step_id`."""
        shown_query = query if query and step_id == visit.session.current_step else None
        return await self._view(visit, query=shown_query)

    async def submit(
        self, visit: Visit, step_id: str, form: FormData, before_confirm: Callable[[], Awaitable[None]] | None = None
    ) -> StepView:
        """The visitor sent `step_id`'s form. `before_confirm` runs before a booking is
        attempted (the confirmation rate limit)."""
        session = visit.session
        if session.status == "booked" and step_id != session.steps[-1]:
            return await self._view(visit, notice=gettext(BOOKED_NOTICE), status=409)
        if session.status == "booked" or step_id != session.current_step:
            return await self._view(visit)  # a form from a step the session has left (double click, second tab)
        ctx = self.context(visit)
        if ctx.step.type == "Summary" and before_confirm is not None:
            await before_confirm()
        result = await handler_for(ctx.step.type).submit(ctx, form)
        ctx.record("step_submitted", accepted=not result.errors)
        if result.errors:
            ctx.record("validation_error", fields=sorted(result.errors))
            # 200, not 422: the browser would log every 4xx in the console of the customer's
            # page; the messages are in the fragment, tied to their fields.
            return await self._save_and_view(visit, ctx, shown_before=step_id, errors=result.errors)
        if result.goto:
            go_to(session, result.goto)
        elif result.advance:
            advance(session)
        return await self._save_and_view(visit, ctx, shown_before=step_id, notice=result.notice, booking=result.booking)

    async def back(self, visit: Visit) -> StepView:
        visit = await self._booked_meanwhile(visit)
        shown_before = shown_step(visit.session)
        ctx = self.context(visit)
        if visit.session.status != "booked" and not await handler_for(ctx.step.type).back(ctx):
            go_to_previous(visit.session)
        return await self._save_and_view(visit, ctx, shown_before=shown_before)

    async def edit(self, visit: Visit, step_id: str) -> StepView:
        """From the Summary: go back to one earlier step to change it."""
        visit = await self._booked_meanwhile(visit)
        if visit.session.status == "booked":
            return await self._view(visit, notice=gettext(BOOKED_NOTICE), status=409)
        if not can_visit(visit.session, step_id):
            return await self._view(visit)
        shown_before = shown_step(visit.session)
        ctx = self.context(visit)
        go_to(visit.session, step_id)
        reopened = self.context(visit)
        handler_for(reopened.step.type).reopened(reopened)
        return await self._save_and_view(visit, ctx, shown_before=shown_before)

    # -- the parts -------------------------------------------------------------------

    def vendor(self, session: BookingSession, organization: Organization) -> VendorStrategy:
        """The request's one vendor, answering for what the session has chosen so far."""
        scope = AvailabilityScope.of_booking(session.booking.service, session.booking.zip_code)
        if self._vendor is None:
            self._vendor = self.vendors(organization, scope)
        else:
            self._vendor.scope_to(scope)
        return self._vendor

    def context(self, visit: Visit) -> StepContext:
        step = visit.flow.step(visit.session.current_step)
        assert step is not None  # the session's steps are the flow's (checked when loaded)
        vendor = self.vendor(visit.session, visit.organization)
        return StepContext(self.db, visit.organization, visit.flow, step, visit.session, vendor, self.now, self.notifier, self.photos)

    async def _save_and_view(
        self,
        visit: Visit,
        ctx: StepContext,
        *,
        shown_before: str,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        booking: Booking | None = None,
    ) -> StepView:
        """The request changed the session: its view, and the session saved with the change
        (`booking`: the one it made, shown on the confirmation as it is)."""
        happened: list[EventItem] = [(ctx.step.id, kind, data) for kind, data in ctx.events]
        if shown_step(visit.session) != shown_before:
            happened.append((shown_step(visit.session), "step_shown", {"direction": visit.session.direction}))
        booked = visit.session.booking_reference if visit.session.status == "booked" else None
        try:
            return await self._view_and_save(visit, happened, errors=errors, notice=notice, booking=booking)
        except SessionConflict:
            # Another request of this session was saved first (a double click, a second tab):
            # show the visitor where the session is now. What this request did is not
            # recorded (its change was not kept: the winner's events tell it); what its
            # view shows is.
            visit = await self._reload(visit)
            if booked is not None and visit.session.status != "booked":
                # This request stored a booking: it wins over whatever was saved meanwhile.
                visit = await self._keep_booking(visit, booked)
            return await self._view(visit)

    async def _view(
        self, visit: Visit, *, notice: str | None = None, query: dict[str, str] | None = None, status: int = 200
    ) -> StepView:
        """The request changed nothing but its count and what its view saw: the view, and
        the session saved with those (again, from where it is now, if another request of
        the session saved first)."""
        for _ in range(_SAVE_ATTEMPTS - 1):
            try:
                return await self._view_and_save(visit, [], notice=notice, query=query, status=status)
            except SessionConflict:
                visit = await self._reload(visit)
        return await self._view_and_save(visit, [], notice=notice, query=query, status=status)

    async def _view_and_save(
        self,
        visit: Visit,
        happened: list[EventItem],
        *,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        query: dict[str, str] | None = None,
        status: int = 200,
        booking: Booking | None = None,
    ) -> StepView:
        """The view of where the session is; then the session saved with what happened and
        what the view saw, numbered, in one write; then those events published. Raises
        SessionConflict when another request saved the session first (nothing recorded)."""
        ctx = self.context(visit)
        try:
            view = await step_view(ctx, errors=errors, notice=notice, query=query, status=status, booking=booking)
        except Exception:
            # The view failed (the schedule is away, say): what the visitor did is kept all
            # the same, and "Try again" shows where they are.
            if happened:
                with suppress(SessionConflict):
                    await self._save(visit.session, happened)
            raise
        await self._save(visit.session, happened + _seen(ctx))
        return view

    async def _save(self, session: BookingSession, items: list[EventItem]) -> None:
        if session.server_events is None:  # a session from before sessions numbered their events
            await save_session(self.db, session, self.now, self.session_ttl)
            await record_with_old_counter(self.db, self.events, session, items, self.now, self.request_id)
            return
        counted = session.server_events
        events = number_events(session, items, self.now, self.request_id)
        try:
            await save_session(self.db, session, self.now, self.session_ttl)
        except SessionConflict:
            session.server_events = counted
            raise
        await publish_events(self.events, events)

    async def _reload(self, visit: Visit) -> Visit:
        session = await session_by_id(self.db, visit.session.id)
        if session is None:  # gone since this request loaded it (expired and removed)
            raise SessionConflict(visit.session.id)
        return Visit(visit.organization, visit.flow, session)

    async def _keep_booking(self, visit: Visit, reference: str) -> Visit:
        """Save the session as booked (with `reference`), whatever else changed it meanwhile."""
        for _ in range(_KEEP_BOOKING_ATTEMPTS):
            session = visit.session
            if session.status == "booked":
                return visit
            mark_booked(session, reference)
            session.current_step = session.steps[-1]
            session.completed_steps = list(session.steps)
            try:
                await save_session(self.db, session, self.now, self.session_ttl)
                return visit
            except SessionConflict:
                visit = await self._reload(visit)
        raise SessionConflict(visit.session.id)

    async def _booked_meanwhile(self, visit: Visit) -> Visit:
        """A session on its last step whose booking is stored but not yet on the session (the
        request that stored it failed before saving): booked, before anything changes it."""
        session = visit.session
        if session.status == "booked" or session.current_step != session.steps[-1]:
            return visit
        booking = await booking_for_session(self.db, session.id)
        if booking is None or booking.status == "slot_taken":
            return visit
        return await self._keep_booking(visit, booking.reference)

def _seen(ctx: StepContext) -> list[EventItem]:
    """What the step's view recorded (what it showed: the calendar's free days, say)."""
    return [(ctx.step.id, kind, data) for kind, data in ctx.events]


def shown_step(session: BookingSession) -> str:
    return "Confirmation" if session.status == "booked" else session.current_step


def _progress(flow: Flow, session: BookingSession) -> list[dict[str, Any]]:
    """Each step's segment: done, current or upcoming; the current one filled in quarters
    as the visitor answers the service questions (`part`, 0–3)."""
    items = []
    for step in flow.steps:
        state = "current" if step.id == session.current_step else "done" if step.id in session.completed_steps else "upcoming"
        part = 0
        if state == "current" and step.type == "ServiceSelection":
            graph = flow.service_graph
            trail = [q for q in session.state_of(step.id).get("trail", []) if any(x.id == q for x in graph.questions)] or [graph.start]
            answered = len(trail) - 1
            part = min(3, 4 * answered // (answered + graph.questions_left(trail[-1])))
        items.append({"title": step.title, "state": state, "part": part})
    return items


async def step_view(
    ctx: StepContext,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    query: dict[str, str] | None = None,
    status: int = 200,
    booking: Booking | None = None,
) -> StepView:
    """The variables the session's step (or its confirmation) is shown with.

    The gallery calls it too, with an in-memory session and `booking`, so designers see
    exactly what visitors get."""
    session = ctx.session
    common: dict[str, Any] = {
        "flow": ctx.flow,
        "organization": ctx.organization,
        "session": session,
        # Applied by the widget to its own stylesheet: an inline style attribute would need
        # 'unsafe-inline' in the host page's Content-Security-Policy.
        "theme_json": json.dumps(ctx.flow.theme.css_variables(), separators=(",", ":")),
        "progress": _progress(ctx.flow, session),
        "format_phone": format_phone,
    }
    if session.status == "booked":
        booking = booking or await booking_for_session(ctx.db, session.id)
        return StepView(CONFIRMATION_TEMPLATE, common | {"booking": booking, "notice": notice}, status)
    handler = handler_for(ctx.step.type)
    extra = await handler.view(ctx, query or {})
    variables = common | extra | {
        "step": ctx.step,
        "values": ctx.state,
        "errors": errors or {},
        "notice": notice,
    }
    has_back = previous_step(session) is not None or bool(extra.get("inner_back"))
    return StepView(handler.template, variables, status, ctx.step.id, has_back)


def prefilled_state(flow: Flow, form: dict[str, str]) -> tuple[dict[str, dict[str, str]], BookingDraft]:
    """What the host page already knows (`data-zip`, `data-name`…): the steps start filled in."""
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
    for name in ("email", "phone"):
        if form.get(name, "").strip():
            customer[name] = form[name].strip()[:200]
    if customer:
        state["Customer"] = customer
    return state, draft
