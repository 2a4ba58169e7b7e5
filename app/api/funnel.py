"""GET /api/funnel: a flow's funnel for the company's own servers (secret key)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from quart import Blueprint, request
from quart_schema import document_headers, validate_querystring, validate_response

from app.events.funnel import date_range, funnel
from app.flows.repository import flow_by_id, organization_by_slug
from app.secret_keys import organization_for_secret
from app.web import services
from app.web.problems import HttpProblem

bp = Blueprint("funnel_api", __name__)


class SecretHeaders(BaseModel):
    authorization: str = Field(description="Bearer sk_… (the organization's secret key)")


class FunnelQuery(BaseModel):
    flow: str | None = Field(default=None, max_length=64, description="Default: the organization's default flow.")
    start: date | None = Field(default=None, description="First day, YYYY-MM-DD (default: 30 days ago).")
    end: date | None = Field(default=None, description="Last day, YYYY-MM-DD (default: today).")


class FunnelStepOut(BaseModel):
    step: str
    title: str
    reached: int
    dropped: int = Field(description="Left the booking here: ended without booking, this their furthest step.")
    in_progress: int = Field(description="Still on this step: active within the last 30 minutes.")
    drop_rate: float


class SourceOut(BaseModel):
    source: str = Field(description='utm_source of the booking visit ("direct" when none).')
    campaign: str
    bookings: int
    with_gclid: int = Field(description="Of these, bookings that came from a Google Ads click.")


class ReasonOut(BaseModel):
    reason: str
    label: str
    sessions: int


class FunnelResponse(BaseModel):
    flow_id: str
    flow_name: str
    start: date
    end: date
    sessions: int
    booked: int
    conversion: float
    still_open: int
    left: int
    steps: list[FunnelStepOut]
    reasons: list[ReasonOut]
    sources: list[SourceOut]


async def organization_for_bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise HttpProblem(401, "missing_secret_key", "Send the secret key as Authorization: Bearer sk_….")
    organization_id = await organization_for_secret(services.current_db(), key.strip())
    if organization_id is None:
        raise HttpProblem(401, "unknown_secret_key", "This secret key is not known.")
    return organization_id


@bp.get("/api/funnel")
@document_headers(SecretHeaders)
@validate_querystring(FunnelQuery)
@validate_response(FunnelResponse, 200)
async def get_funnel(query_args: FunnelQuery) -> FunnelResponse:
    """Sessions per step of a flow over a date range, drop-off, conversion, reasons for leaving."""
    db = services.current_db()
    organization = await organization_by_slug(db, await organization_for_bearer())
    assert organization is not None
    flow = await flow_by_id(db, organization.slug, query_args.flow or organization.routing.default_flow)
    if flow is None:
        raise HttpProblem(404, "unknown_flow", f"No flow {query_args.flow!r} in this organization.")
    now = services.now()
    try:
        start, end = date_range(query_args.start, query_args.end, organization, now)
    except ValueError as exc:
        raise HttpProblem(422, "invalid_range", str(exc)) from None
    result = await funnel(db, organization, flow, start, end, now)
    return FunnelResponse(
        flow_id=result.flow_id,
        flow_name=result.flow_name,
        start=result.start,
        end=result.end,
        sessions=result.sessions,
        booked=result.booked,
        conversion=round(result.conversion, 4),
        still_open=result.still_open,
        left=result.left,
        steps=[FunnelStepOut(step=s.step, title=s.title, reached=s.reached, dropped=s.dropped, in_progress=s.in_progress,
                             drop_rate=round(s.drop_rate, 4)) for s in result.steps],
        sources=[SourceOut(source=r.source, campaign=r.campaign, bookings=r.bookings, with_gclid=r.with_gclid) for r in result.sources],
        reasons=[ReasonOut(reason=code, label=label, sessions=n) for code, label, n in result.reasons],
    )
