"""The company's funnel page: sign in with the secret key, pick a flow and dates.

The key travels in the form's POST body (never in a URL) and is not kept: each view of
the page is one POST.
"""

from __future__ import annotations

from datetime import date

from quart import Blueprint, render_template, request

from app.events.funnel import Funnel, date_range, funnel
from app.flows.repository import flow_by_id, organization_by_slug
from app.secret_keys import organization_for_secret
from app.web import services

bp = Blueprint("dashboard", __name__)

CHART_WIDTH = 640
BAR_HEIGHT = 34
LABEL_WIDTH = 210


def chart(result: Funnel) -> dict[str, object]:
    """Bar geometry of the funnel's SVG: one bar per step, then the bookings."""
    rows = [(s.title, s.reached, s.dropped) for s in result.steps] + [("Booked", result.booked, 0)]
    widest = max((reached for _, reached, _ in rows), default=0) or 1
    bar_space = CHART_WIDTH - LABEL_WIDTH - 90
    bars = [
        {
            "label": label,
            "value": reached,
            "dropped": dropped,
            "y": i * (BAR_HEIGHT + 10),
            "width": max(round(bar_space * reached / widest), 2 if reached else 0),
        }
        for i, (label, reached, dropped) in enumerate(rows)
    ]
    return {"bars": bars, "width": CHART_WIDTH, "height": len(bars) * (BAR_HEIGHT + 10), "label_width": LABEL_WIDTH, "bar_height": BAR_HEIGHT}


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


@bp.route("/dashboard", methods=["GET", "POST"])
async def dashboard() -> tuple[str, int]:
    signed_out = {"problem": None, "result": None, "key": None, "organization": None, "flows": None, "flow": None}
    if request.method == "GET":
        return await render_template("dashboard/funnel.html", **signed_out), 200
    form = await request.form
    key = (form.get("key") or "").strip()
    db = services.current_db()
    organization_id = await organization_for_secret(db, key) if key else None
    if organization_id is None:
        return await render_template("dashboard/funnel.html", **signed_out | {"problem": "That secret key is not known."}), 401
    organization = await organization_by_slug(db, organization_id)
    assert organization is not None
    flows = await db.flows.find({"organization_id": organization.slug}, {"flow_id": 1, "name": 1}).sort("position", 1).to_list()
    flow = await flow_by_id(db, organization.slug, form.get("flow") or organization.routing.default_flow)
    context = {"key": key, "organization": organization, "flows": flows, "flow": flow, "result": None, "problem": None}
    now = services.now()
    try:
        start, end = date_range(_date(form.get("start")), _date(form.get("end")), organization, now)
    except ValueError as exc:
        return await render_template("dashboard/funnel.html", **context | {"problem": str(exc)}), 422
    if flow is None:
        return await render_template("dashboard/funnel.html", **context | {"problem": "No such flow."}), 404
    result = await funnel(db, organization, flow, start, end, now)
    return await render_template("dashboard/funnel.html", **context | {"result": result, "chart": chart(result)}), 200
