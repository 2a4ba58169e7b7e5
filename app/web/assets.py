"""The widget's assets in development: the sources in static/, named by a manifest made from them.

The entry (`/cdn/scheduler.js`) fetches this manifest and loads what it names, exactly
as it will from the CDN's built `dist/` (issue "CDN: versioned builds…" replaces this).
"""

from __future__ import annotations

from pathlib import Path

from quart import Blueprint, Response, current_app, jsonify, request

bp = Blueprint("assets", __name__)

WIDGET_ASSETS = {"core": "scheduler-core.js", "vendor": "vendor/htmx.esm.min.js", "css": "scheduler.css"}
NEVER_CACHED = "no-cache, no-store, must-revalidate"


@bp.get("/cdn/version-manifest.json")
async def version_manifest() -> Response:
    static = Path(current_app.static_folder or "static")
    # The newest source's time: an edit gives the browser a new ?v= and so a fresh copy.
    build_time = max((static / name).stat().st_mtime_ns for name in WIDGET_ASSETS.values()) // 1_000_000
    api = current_app.extensions["settings"].public_base_url or request.host_url.rstrip("/")
    response = jsonify({**WIDGET_ASSETS, "buildTime": build_time, "api": api})
    response.headers["Cache-Control"] = NEVER_CACHED
    return response
