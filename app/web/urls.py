"""Absolute URLs for fragments: they are swapped into pages of other origins."""

from __future__ import annotations

from typing import Any

from quart import current_app, request, url_for


def external_url(endpoint: str, **values: Any) -> str:
    base = current_app.extensions["settings"].public_base_url or request.host_url.rstrip("/")
    return base + url_for(endpoint, **values)
