"""The current time, in one place so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime

from quart import current_app


def utc_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    """The application's current time (tests may replace `app.extensions["clock"]`)."""
    return current_app.extensions["clock"]()
