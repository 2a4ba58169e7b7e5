"""CORS for the widget: it runs on customers' pages, so its requests are cross-origin.

The widget sends no cookies, so echoing the Origin exposes nothing that a request
without CORS could not get; whether an origin may *use* a key is enforced on each
request (`access.requesting_organization`), with a 403 that the widget can read.
"""

from __future__ import annotations

from quart import Quart, Response, request

from app.web.protocol import CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS

PREFLIGHT_MAX_AGE = "600"


def init_cors(app: Quart) -> None:
    @app.before_request
    async def answer_preflight() -> Response | None:
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            response = Response("", status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
            return response
        return None

    @app.after_request
    async def add_cors_headers(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
            response.vary.add("Origin")
        return response
