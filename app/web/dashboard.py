"""The funnel's chart (for the console's funnel page), and the page's old address.

The funnel was a page of its own, opened by pasting a secret key; it is now in the
console (`/console/funnel`), for the company's people signed in. The secret key stays for
servers (`GET /api/funnel`).
"""

from __future__ import annotations

from quart import Blueprint, Response, redirect

from app.events.funnel import Funnel

bp = Blueprint("dashboard", __name__)

def chart(result: Funnel) -> list[dict[str, object]]:
    """The funnel's bars: one per step, then the bookings; `percent` of the widest, so the
    chart is drawn in HTML and fits any screen."""
    rows = [(s.title, s.reached, s.dropped, s.in_progress) for s in result.steps] + [("Booked", result.booked, 0, 0)]
    widest = max((reached for _, reached, _, _ in rows), default=0) or 1
    return [
        {"label": label, "value": reached, "dropped": dropped, "in_progress": in_progress,
         "percent": round(100 * reached / widest, 1), "booked": i == len(rows) - 1}
        for i, (label, reached, dropped, in_progress) in enumerate(rows)
    ]


@bp.route("/dashboard", methods=["GET", "POST"])
async def moved() -> Response:
    """The funnel lives in the console now; a bookmark of the old page goes there."""
    return redirect("/console/funnel", 301)  # type: ignore[return-value]
