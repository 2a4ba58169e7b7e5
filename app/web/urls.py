"""Absolute URLs for fragments: they are swapped into pages of other origins."""

from __future__ import annotations

from typing import Any

from quart import request, url_for

from app.web import services


def external_url(endpoint: str, **values: Any) -> str:
    base = services.current().settings.public_base_url or request.host_url.rstrip("/")
    return base + url_for(endpoint, **values)
