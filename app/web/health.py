"""Health checks for the load balancer."""

from __future__ import annotations

from quart import Blueprint

from app.db import current_db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
async def healthz() -> tuple[dict[str, str], int]:
    """The process is alive and serving."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
async def readyz() -> tuple[dict[str, str], int]:
    """The process can serve visitors: its database answers."""
    if await current_db().is_reachable():
        return {"status": "ready"}, 200
    return {"status": "unavailable", "reason": "the database does not answer"}, 503
