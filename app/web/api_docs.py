"""The API reference at /docs works offline: its viewer (Swagger UI) is served from the
`swagger-ui-py` package's copy, not from an outside CDN (#18 item 11)."""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from quart import Blueprint, Response, send_file

from app.web.problems import HttpProblem

bp = Blueprint("api_docs", __name__)

ASSETS = Path(swagger_ui.__file__).resolve().parent / "static"
SERVED = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8"}
JS_URL, CSS_URL = "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"


@bp.get("/docs/assets/<name>")
async def asset(name: str) -> Response:
    if name not in SERVED:  # only the two files the page loads: nothing else of the package
        raise HttpProblem(404, "not_found", "No such file.")
    response = await send_file(ASSETS / name, mimetype=SERVED[name])
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
