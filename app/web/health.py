"""Health checks for the load balancer.

`/healthz` (is the process alive?) is answered at the ASGI edge, before Quart: no
request hooks, no logging, no database, no queue. Under load a health check waits only
for the event loop, and an answer that is slow to come is not mistaken for a dead task
(the manifest gives it 10 s, five times, before the task is replaced). `/readyz` (can it
serve visitors?) asks the database.
"""

from __future__ import annotations

from quart import Blueprint, Quart

from app.web import services

bp = Blueprint("health", __name__)

HEALTHZ = "/healthz"
_ALIVE = b'{"status":"ok"}'
_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"), (b"content-length", str(len(_ALIVE)).encode())]


def answer_healthz_first(app: Quart) -> None:
    """Wrap the app so that GET/HEAD /healthz is answered before anything else runs."""
    inner = app.asgi_app

    async def asgi(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"] == HEALTHZ and scope["method"] in {"GET", "HEAD"}:
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            await send({"type": "http.response.body", "body": _ALIVE if scope["method"] == "GET" else b""})
            return
        await inner(scope, receive, send)

    app.asgi_app = asgi  # type: ignore[method-assign]


@bp.get("/readyz")
async def readyz() -> tuple[dict[str, str], int]:
    """The process can serve visitors: its database answers."""
    if await services.current_db().is_reachable():
        return {"status": "ready"}, 200
    return {"status": "unavailable", "reason": "the database does not answer"}, 503
