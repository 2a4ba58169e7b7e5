"""Each request's id, and its log line.

The widget sends X-Request-Id on every request (a fresh UUID); the server keeps a valid
one or makes its own, returns it, logs it, and puts it on the session events the
request records, so the worker's log lines carry it too.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from quart import Quart, Response, g, request

from app.web.protocol import REQUEST_ID_HEADER

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
logger = logging.getLogger("scheduler")


def current_request_id() -> str | None:
    found: str | None = g.get("request_id")
    return found


def init_request_logging(app: Quart) -> None:
    @app.before_request
    async def assign_request_id() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    async def log_request(response: Response) -> Response:
        if "request_id" not in g:  # answered before our before_request ran
            await assign_request_id()
        response.headers[REQUEST_ID_HEADER] = g.request_id
        logger.info(
            "request",
            extra={
                "request_id": g.request_id,
                "method": request.method,
                "path": request.path,  # never the query string: it may carry personal data
                "route": request.url_rule.rule if request.url_rule else None,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.started) * 1000, 2),
            },
        )
        return response
