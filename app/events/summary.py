"""A session's summary, derived from all its stored events (so re-deriving is harmless).

Furthest step, outcome (booked, out of area, or still open — the funnel calls an open
session abandoned once it has been quiet long enough), why a visitor who left left,
and where they came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _leave_reason(events: list[dict[str, Any]]) -> str | None:
    for event in reversed(events):
        kind, data = event["type"], event.get("data") or {}
        if kind == "validation_error":
            return "validation_error"
        if kind == "booking_failed" and data.get("reason") == "slot_taken":
            return "no_slot"
        if kind == "timeslot_viewed" and data.get("open_days") == 0:
            return "no_slot"
        if kind in {"step_submitted", "answer_chosen", "booking_confirmed"}:
            return None
    return None


def summarize(session_id: str, events: Iterable[dict[str, Any]], flow_steps: list[str]) -> dict[str, Any]:
    ordered = sorted(events, key=lambda e: (e["at"], e["source"], e["seq"]))
    first, last = ordered[0], ordered[-1]
    shown = [e["step"] for e in ordered if e["type"] == "step_shown" and e.get("step") in flow_steps]
    furthest = max((flow_steps.index(step) for step in shown), default=0)
    booked = next((e for e in ordered if e["type"] == "booking_confirmed"), None)
    out_of_area = furthest == 0 and any(e["type"] == "out_of_area" for e in ordered)
    outcome = "booked" if booked else "out_of_area" if out_of_area else "open"
    started = next((e for e in ordered if e["type"] == "session_started"), None)
    return {
        "_id": session_id,
        "organization_id": first["organization_id"],
        "flow_id": first["flow_id"],
        "started_at": first["at"],
        "last_event_at": last["at"],
        "furthest_step": flow_steps[furthest] if flow_steps else None,
        "furthest_step_index": furthest,
        "outcome": outcome,
        "booking_reference": (booked.get("data") or {}).get("reference") if booked else None,
        "leave_reason": None if booked else "out_of_area" if out_of_area else _leave_reason(ordered),
        "attribution": (started.get("data") or {}).get("attribution", {}) if started else {},
        "event_count": len(ordered),
    }
