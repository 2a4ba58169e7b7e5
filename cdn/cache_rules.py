"""How long each key may be cached, in one place: S3 upload headers, the CloudFront cache
policies, and the web process serving dist/ in development all read it from here.

Two layers, as in the reference system:
- the edge (CloudFront cache policies): root-level keys are not cached (0 s default,
  1 s max, all query strings forwarded); everything else is cached a year with query
  strings stripped, so `?v={buildTime}` busts browsers but not the edge;
- the browser (Cache-Control per key): root-level keys `no-cache, no-store,
  must-revalidate`; versioned keys `public, max-age=…` by the graduation plan.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

ONE_WEEK = 7 * 24 * 3600
ONE_MONTH = 30 * 24 * 3600
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class CacheDurations:
    """Seconds a browser may keep a versioned file.

    Graduation plan: one week now (conservative while cache-busting is proven in
    production), then a month, then a year with `immutable`.
    """

    versioned: int = ONE_WEEK
    versioned_immutable: bool = False
    edge_versioned: int = ONE_YEAR
    edge_no_cache_default: int = 0
    edge_no_cache_max: int = 1


CACHE_DURATIONS = CacheDurations()
GRADUATION_PLAN = (
    CacheDurations(versioned=ONE_WEEK),
    CacheDurations(versioned=ONE_MONTH),
    CacheDurations(versioned=ONE_YEAR, versioned_immutable=True),
)

NEVER_CACHED = "no-cache, no-store, must-revalidate"
# The root-level keys, each with its own no-cache route at the edge.
ROOT_KEYS = ("scheduler.js", "version-manifest.json", "loader.js", "build-info.json")

# What the edge's CloudFront Functions add to every response (and answer to OPTIONS):
# the assets are public and fetched by pages of any origin, without credentials.
EDGE_CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
    "access-control-allow-headers": "*",
    "access-control-max-age": "86400",
}


def is_versioned(key: str) -> bool:
    """Versioned keys live under `{commit}/`; root-level keys have no `/`."""
    return "/" in key.strip("/")


def cache_control_for(key: str, durations: CacheDurations = CACHE_DURATIONS) -> str:
    if not is_versioned(key):
        return NEVER_CACHED
    value = f"public, max-age={durations.versioned}"
    return value + ", immutable" if durations.versioned_immutable else value


def content_type_for(key: str) -> str:
    if key.endswith(".js"):
        return "text/javascript; charset=utf-8"
    if key.endswith(".css"):
        return "text/css; charset=utf-8"
    if key.endswith(".json"):
        return "application/json"
    return mimetypes.guess_type(key)[0] or "application/octet-stream"
