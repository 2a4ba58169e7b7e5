"""The widget's built assets (dist/) under /cdn/, as S3 + CloudFront serve them.

Development and tests load the widget exactly as customers' pages will: the entry, the
never-cached manifest, then the versioned chunks, with the Cache-Control of each key
and the edge's CORS headers (all from `cdn.cache_rules`).
"""

from __future__ import annotations

from pathlib import Path

from quart import Blueprint, Response, request, send_file
from werkzeug.security import safe_join

from app.web import services
from cdn.cache_rules import EDGE_CORS_HEADERS, cache_control_for, content_type_for

bp = Blueprint("assets", __name__)


def _edge(response: Response) -> Response:
    response.headers.update(EDGE_CORS_HEADERS)
    return response


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name longer than the file system allows, say: no such asset
        return False


@bp.route("/cdn/<path:key>", methods=["GET", "HEAD", "OPTIONS"])
async def asset(key: str) -> Response:
    if request.method == "OPTIONS":
        return _edge(Response("", status=204))
    dist: Path = services.current().settings.cdn_dist_dir
    found = safe_join(str(dist), key)
    if found is None or not _is_file(Path(found)):
        hint = "" if (dist / "version-manifest.json").exists() else " (no build: run `python -m cdn build`)"
        return _edge(Response(f"not found{hint}", status=404, content_type="text/plain"))
    response = await send_file(found, mimetype=content_type_for(key), conditional=True)
    response.headers["Cache-Control"] = cache_control_for(key)
    return _edge(response)
