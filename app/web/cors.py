"""CORS for the widget: it runs on customers' pages, so its requests are cross-origin.

- `/cdn/` assets are public and answered as the CDN's edge answers (`web.assets`).
- A preflight carries no key, so it is approved for origins that some organization
  allows; the request that follows is checked against its own organization.
- Responses (errors included) carry CORS headers only when the requesting
  organization allows the origin (`access.requesting_organization` records that).
  Any other origin gets no CORS headers, so the browser refuses the answer.
"""

from __future__ import annotations

import time

from quart import Quart, Response, g, request

from app.web import services
from app.web.origins import origin_allowed
from app.web.protocol import CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS

PREFLIGHT_MAX_AGE = "600"
ASSETS_PREFIX = "/cdn/"
# Allowed origins change when an organization is imported; a preflight may lag that briefly.
ORIGINS_CACHE_SECONDS = 30.0


async def _all_allowed_origins() -> list[str]:
    service = services.current()
    cached = service.origins_cache
    if cached and cached[0] > time.monotonic():
        return cached[1]
    cursor = service.db.organizations.find({}, {"allowed_origins": 1})
    patterns = [p async for doc in cursor for p in doc.get("allowed_origins", [])]
    service.origins_cache = (time.monotonic() + ORIGINS_CACHE_SECONDS, patterns)
    return patterns


def allow_origin_for_this_request(origin: str) -> None:
    """The requesting organization allows `origin`: its answer may be read there."""
    g.cors_origin = origin


def init_cors(app: Quart) -> None:
    @app.before_request
    async def answer_preflight() -> Response | None:
        if request.method != "OPTIONS" or not request.headers.get("Access-Control-Request-Method"):
            return None
        origin = request.headers.get("Origin", "")
        if request.path.startswith(ASSETS_PREFIX):
            return None  # the assets route answers as the edge does
        if origin_allowed(origin, await _all_allowed_origins()):
            g.cors_origin = origin
        else:
            return Response("", status=403)
        response = Response("", status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response

    @app.after_request
    async def add_cors_headers(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if request.path.startswith(ASSETS_PREFIX):
            return response
        if origin and g.get("cors_origin") == origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
        if origin:
            response.vary.add("Origin")
        return response
