"""Rendering the session's current step (or its confirmation) as an HTML fragment."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from quart import Response, render_template

from app.bookings.confirm import booking_for_session
from app.db import Database
from app.sessions.navigation import previous_step
from app.steps.base import StepContext
from app.steps.contact import format_phone
from app.steps.registry import handler_for
from app.vendors.base import VendorStrategy
from app.web.access import Visit
from app.web.urls import external_url


def step_context(db: Database, visit: Visit, vendor: VendorStrategy, now: datetime) -> StepContext:
    step = visit.flow.step(visit.session.current_step)
    assert step is not None
    return StepContext(db, visit.organization, visit.flow, step, visit.session, vendor, now)


def _progress(visit: Visit) -> list[dict[str, Any]]:
    session = visit.session
    return [
        {
            "title": step.title,
            "state": "current" if step.id == session.current_step else "done" if step.id in session.completed_steps else "upcoming",
        }
        for step in visit.flow.steps
    ]


def _theme_json(visit: Visit) -> str:
    # Applied by the widget to its own stylesheet: an inline style attribute would need
    # 'unsafe-inline' in the host page's Content-Security-Policy.
    return json.dumps(visit.flow.theme.css_variables(), separators=(",", ":"))


async def render_step(
    ctx: StepContext,
    visit: Visit,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    query: dict[str, str] | None = None,
    status: int = 200,
    booking: dict[str, Any] | None = None,
) -> Response:
    session = visit.session
    common: dict[str, Any] = {
        "flow": visit.flow,
        "organization": visit.organization,
        "session": session,
        "theme_json": _theme_json(visit),
        "progress": _progress(visit),
        "format_phone": format_phone,
    }
    if session.status == "booked":
        booking = booking or await booking_for_session(ctx.db, session.id)
        html = await render_template("steps/confirmation.html", **common, booking=booking, notice=notice)
        return Response(html, status=status, content_type="text/html; charset=utf-8")
    handler = handler_for(ctx.step.type)
    extra = await handler.view(ctx, query or {})
    inner_back = bool(extra.get("inner_back"))
    html = await render_template(
        handler.template,
        **common,
        **extra,
        step=ctx.step,
        values=ctx.state,
        errors=errors or {},
        notice=notice,
        submit_url=external_url("steps.submit_step", step_id=ctx.step.id),
        back_url=external_url("steps.go_back") if previous_step(session) or inner_back else None,
        edit_url=lambda step_id: external_url("steps.edit_step", step_id=step_id),
        view_url=lambda **query: external_url("steps.view_step", step_id=ctx.step.id, **query),
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")
